"""Following a story: topics users follow (`store`), matching new articles against them (`matching`,
`queueing`), and when a user may be told (`schedule`). Transport-agnostic; `bot/telegram/follow.py` and
`bot/telegram/push.py` are the Telegram side."""
