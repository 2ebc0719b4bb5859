"""The schema of following a story, in the bot's SQLite database: named, append-only migrations (see
`bot/database.py`). Never edit one that has shipped; add the next."""

from __future__ import annotations

from bot.database import Migration

MIGRATIONS: tuple[Migration, ...] = (
    (
        "follow_001_topics",
        """
        CREATE TABLE topics (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            vector BLOB NOT NULL,              -- float32, unit length: the text embedded as a query
            created_at TEXT NOT NULL,
            stopped_at TEXT                    -- set by "Stop" (rows stay: notifications name them)
        );
        CREATE INDEX topics_user ON topics (user_id) WHERE stopped_at IS NULL;
        CREATE UNIQUE INDEX topics_live_text ON topics (user_id, chat_id, text) WHERE stopped_at IS NULL;
        """,
    ),
    (
        "follow_002_notifications",
        """
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            claimed_by TEXT NOT NULL,
            claimed_at REAL NOT NULL,          -- epoch seconds
            finished_at REAL,
            outcome TEXT,                      -- sent, failed, dropped, retry, interrupted
            rating INTEGER CHECK (rating IN (-1, 1))
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            topic_id INTEGER NOT NULL REFERENCES topics (id),
            article_id TEXT NOT NULL,
            sentence_key TEXT NOT NULL,        -- hash of the matching sentence: an update tells again if it changed
            title TEXT NOT NULL,
            url TEXT,
            date TEXT,
            source TEXT,
            sentence TEXT NOT NULL,
            score REAL NOT NULL,
            updated INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
            created_at REAL NOT NULL,
            due_at REAL NOT NULL DEFAULT 0,    -- not before (Telegram asked to wait)
            batch_id INTEGER REFERENCES batches (id),
            UNIQUE (user_id, article_id, sentence_key)
        );
        CREATE INDEX notifications_status ON notifications (status, user_id);
        """,
    ),
    (
        "follow_003_preferences",
        """
        CREATE TABLE preferences (
            user_id INTEGER PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0, -- the bot was blocked: nothing is sent until they follow again
            digest_at TEXT,                    -- HH:MM local: one message a day
            quiet_from TEXT,                   -- HH:MM local
            quiet_to TEXT,
            utc_offset_min INTEGER
        );
        CREATE TABLE follow_flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
)
