'use strict';
/*
 * The Bot API emulator for newsbot's Telegram tests and benchmark: telegram-test-api (tests/emulator), served
 * through a thin front that bridges its gaps with python-telegram-bot 22, so the bot under test runs its
 * production code unchanged. See tests/README.md for the list of gaps.
 *
 * Usage: node tests/telegram/emulator.js [PORT]   (0 or nothing: a free port)
 * Prints one JSON line {"port": N} on stdout once it listens on 127.0.0.1.
 *
 * Bot side (/bot<token>/<method>): what PTB calls. Client side (/client/*): what the tests call to act as users.
 *   POST /client/message   {botToken, from, chat, text?, entities?, reply_to_message?, photo?, sticker?, ...}
 *                          -> {message_id}; a user sends a message (commands are messages with a bot_command entity)
 *   POST /client/callback  {botToken, from, chatId, messageId, data} -> {callback_id}; a user taps an inline button
 *   POST /client/replies   {botToken, chatId, timeout} -> [message]; the bot's unread messages to a chat, waiting
 *                          up to `timeout` seconds for the first one
 *   POST /client/state     {botToken, chatId, messageId} -> message; a bot message as it is now (after edits)
 *   POST /client/log       {since} -> [{seq, method, params}]; every call the bot made, for the tests' checks
 *   POST /client/control   {failChatAction, floodNext, dropNext, rejectHtmlNext} -> the settings; failChatAction: let
 *                          sendChatAction fail as the bare emulator does (HTTP 500); floodNext: answer the next N
 *                          sendMessage calls with 429 Too Many Requests (retry after 1 s); dropNext: close the
 *                          connection of the next N sendMessage calls without answering (a network error);
 *                          rejectHtmlNext: answer the next N sendMessage calls in a parse mode with 400 Bad Request
 *                          (can't parse entities), as Telegram answers markup it refuses; blockChats: a list of
 *                          chat ids whose sendMessage calls get 403 Forbidden (the user blocked the bot)
 */
const path = require('path');
const { createRequire } = require('module');

const emulatorRequire = createRequire(path.join(__dirname, '..', 'emulator', 'package.json'));
const TelegramServer = emulatorRequire('telegram-test-api');
const express = emulatorRequire('express');
const axios = emulatorRequire('axios');

const BOT = {
  id: 666,
  is_bot: true,
  first_name: 'Test First name',
  username: 'TestNameBot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};
const USER_EVENTS = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
const JSON_FIELDS = ['reply_markup', 'entities', 'reply_parameters', 'link_preview_options', 'commands', 'scope'];

const tg = new TelegramServer({ port: 0, host: '127.0.0.1', storeTimeout: 24 * 3600 });
tg.setMaxListeners(0);
const control = { failChatAction: false, floodNext: 0, dropNext: 0, rejectHtmlNext: 0, blockChats: [] };
const calls = []; // every bot call but getUpdates: {seq, at, token, method, params}

// A malformed request must not take the emulator down (the bare one crashes on a rejected promise).
process.on('unhandledRejection', (err) => console.error(`emulator: unhandled rejection: ${err}`));
process.on('uncaughtException', (err) => console.error(`emulator: uncaught exception: ${err}`));

function ok(res, result) {
  res.json({ ok: true, result });
}

function bad(res, description) {
  res.status(400).json({ ok: false, error_code: 400, description: `Bad Request: ${description}` });
}

function nowS() {
  return Math.floor(Date.now() / 1000);
}

function parseJsonFields(params) {
  const out = { ...params };
  for (const key of JSON_FIELDS) {
    if (typeof out[key] === 'string') {
      try {
        out[key] = JSON.parse(out[key]);
      } catch (_err) {
        // left as sent; the tests' checks will complain
      }
    }
  }
  return out;
}

function chatOf(chatId) {
  const id = Number(chatId);
  return id < 0 ? { id, type: 'group', title: `group ${id}` } : { id, type: 'private', first_name: 'User' };
}

// A stored bot message as the Bot API returns it: dates in seconds, a sender, a typed chat.
function asMessage(stored) {
  const m = stored.message;
  const message = {
    message_id: stored.messageId,
    date: Math.floor(stored.time / 1000),
    chat: chatOf(m.chat_id),
    from: BOT,
    text: m.text,
  };
  if (m.reply_markup && m.reply_markup.inline_keyboard) message.reply_markup = m.reply_markup;
  if (m.edited) message.edit_date = nowS();
  return message;
}

// What the tests read: the raw call, as sent, plus where it is.
function asReply(stored) {
  return {
    ...stored.message,
    message_id: stored.messageId,
    chat_id: Number(stored.message.chat_id),
    date: Math.floor(stored.time / 1000),
  };
}

function findBotMessage(token, chatId, messageId) {
  return tg.storage.botMessages.find((u) => u.botToken === token
    && String(u.message.chat_id) === String(chatId) && String(u.messageId) === String(messageId));
}

function waitForEvents(events, timeoutMs, res) {
  return new Promise((resolve) => {
    let timer = null;
    const done = () => {
      clearTimeout(timer);
      for (const e of events) tg.off(e, done);
      if (res) res.off('close', done);
      resolve();
    };
    for (const e of events) tg.on(e, done);
    if (res) res.on('close', done);
    timer = setTimeout(done, timeoutMs);
  });
}

// Telegram omits nothing PTB requires; the emulator does: callback queries carry no chat_instance.
function asUpdate(update) {
  if (update.callback_query) {
    const cq = update.callback_query;
    const chatId = cq.message && cq.message.chat ? cq.message.chat.id : 0;
    return { ...update, callback_query: { ...cq, chat_instance: String(chatId) } };
  }
  const { botToken, ...message } = update.message; // eslint-disable-line no-unused-vars
  return { ...update, message };
}

const app = express();
app.use(express.json({ limit: '5mb' }));
app.use(express.urlencoded({ extended: true, limit: '5mb' }));

// ---- bot side ---------------------------------------------------------------------------------------
app.all('/bot:token/:method', async (req, res, next) => {
  const { token, method } = req.params;
  const params = parseJsonFields({ ...req.query, ...req.body });
  if (method !== 'getUpdates') calls.push({ seq: calls.length + 1, at: Date.now(), token, method, params });
  switch (method) {
    case 'getMe':
      return ok(res, BOT);
    case 'getUpdates': {
      // The emulator ignores `timeout`; long polling keeps the bot's latency and CPU use realistic.
      let updates = tg.getUpdates(token);
      const timeoutS = Math.min(Number(params.timeout || 0), 50);
      if (!updates.length && timeoutS > 0) {
        await waitForEvents(USER_EVENTS, timeoutS * 1000, res);
        updates = tg.getUpdates(token);
      }
      return ok(res, updates.map(asUpdate));
    }
    case 'sendMessage': {
      if (control.floodNext > 0) {
        control.floodNext -= 1;
        return res.status(429).json({
          ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 },
        });
      }
      if (control.blockChats.includes(Number(params.chat_id))) {
        return res.status(403).json({ ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' });
      }
      if (control.dropNext > 0) {
        control.dropNext -= 1;
        return req.socket.destroy();
      }
      if (control.rejectHtmlNext > 0 && params.parse_mode) {
        control.rejectHtmlNext -= 1;
        return bad(res, "can't parse entities: Unsupported start tag \"x\" at byte offset 0");
      }
      if (params.chat_id === undefined || typeof params.text !== 'string') return bad(res, 'chat_id and text required');
      if (!params.text.length) return bad(res, 'message text is empty');
      tg.addBotMessage({ ...params }, token);
      const stored = tg.storage.botMessages[tg.storage.botMessages.length - 1];
      return ok(res, asMessage(stored)); // the emulator answers with `date` in milliseconds
    }
    case 'editMessageText':
    case 'editMessageReplyMarkup': {
      const stored = findBotMessage(token, params.chat_id, params.message_id);
      if (!stored) return bad(res, 'message to edit not found');
      tg[method]({ ...params, edited: true });
      return ok(res, asMessage(stored)); // the emulator answers null
    }
    case 'answerCallbackQuery':
      return ok(res, true); // the emulator answers null
    case 'setMyCommands':
    case 'deleteMyCommands':
    case 'setChatMenuButton':
    case 'setMyDescription':
    case 'setMyShortDescription':
      return ok(res, true); // unsupported by the emulator (HTTP 500); recorded in the call log
    case 'sendChatAction':
      if (control.failChatAction) return next(); // the bare emulator: HTTP 500
      return ok(res, true);
    case 'getWebhookInfo': {
      const hook = tg.webhooks[token];
      return ok(res, { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: 0 });
    }
    case 'setWebhook': {
      if (!params.url) return bad(res, 'url required');
      // The emulator posts updates without the secret token header, which PTB then rejects.
      if (params.secret_token) axios.defaults.headers.common['X-Telegram-Bot-Api-Secret-Token'] = params.secret_token;
      tg.setWebhook({ url: params.url }, token);
      return ok(res, true);
    }
    default:
      return next();
  }
});

// ---- client side: the tests act as users -----------------------------------------------------------
app.post('/client/message', async (req, res) => {
  const { botToken, ...message } = req.body;
  if (!botToken || !message.chat || message.chat.id === undefined || !message.from || message.from.id === undefined) {
    return bad(res, 'botToken, chat.id and from.id required');
  }
  const messageId = tg.messageId;
  try {
    await tg.addUserMessage({ date: nowS(), ...message, botToken });
  } catch (err) {
    return res.status(502).json({ ok: false, error_code: 502, description: `delivery failed: ${err}` });
  }
  return ok(res, { message_id: messageId });
});

app.post('/client/callback', async (req, res) => {
  const { botToken, from, chatId, messageId, data } = req.body;
  if (!botToken || !from || from.id === undefined || typeof data !== 'string') return bad(res, 'botToken, from, data required');
  const stored = findBotMessage(botToken, chatId, messageId);
  if (!stored) return bad(res, `no bot message ${messageId} in chat ${chatId}`);
  const callbackId = tg.callbackId;
  try {
    await tg.addUserCallback({ botToken, from, message: asMessage(stored), data });
  } catch (err) {
    return res.status(502).json({ ok: false, error_code: 502, description: `delivery failed: ${err}` });
  }
  return ok(res, { callback_id: String(callbackId) });
});

app.post('/client/replies', async (req, res) => {
  const { botToken, chatId } = req.body;
  const timeoutS = Math.min(Number(req.body.timeout || 0), 120);
  const unread = () => tg.storage.botMessages.filter((u) => u.botToken === botToken
    && String(u.message.chat_id) === String(chatId) && !u.isRead);
  let found = unread();
  const deadline = Date.now() + timeoutS * 1000;
  while (!found.length && Date.now() < deadline && !res.writableEnded && !req.socket.destroyed) {
    await waitForEvents(['AddedBotMessage'], deadline - Date.now(), res);
    found = unread();
  }
  for (const u of found) u.isRead = true;
  return ok(res, found.map(asReply));
});

app.post('/client/state', (req, res) => {
  const stored = findBotMessage(req.body.botToken, req.body.chatId, req.body.messageId);
  if (!stored) return bad(res, 'message not found');
  return ok(res, asReply(stored));
});

app.post('/client/log', (req, res) => ok(res, calls.slice(Number(req.body.since || 0))));

app.post('/client/control', (req, res) => {
  if ('failChatAction' in req.body) control.failChatAction = Boolean(req.body.failChatAction);
  if ('floodNext' in req.body) control.floodNext = Number(req.body.floodNext) || 0;
  if ('dropNext' in req.body) control.dropNext = Number(req.body.dropNext) || 0;
  if ('rejectHtmlNext' in req.body) control.rejectHtmlNext = Number(req.body.rejectHtmlNext) || 0;
  if ('blockChats' in req.body) control.blockChats = (req.body.blockChats || []).map(Number);
  return ok(res, control);
});

app.use(tg.webServer); // everything else: the emulator as it is

const server = app.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
server.keepAliveTimeout = 65000;
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
