"""The Telegram gateway: questions in from Telegram to NATS, answers and alerts out to Telegram.

aiogram 3 polls the Bot API (or a self-hosted one at ``TELEGRAM_API_BASE``); a private text
message becomes a ``QuestionAsked`` on the bus; ``QuestionAnswered`` and ``AlertNotification``
events from the bus become Telegram messages. The gateway never touches the database.
"""
