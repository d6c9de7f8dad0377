"""What the bot says on its own (help, hints, slow-down), in English and Russian.

Texts that take HTML are marked so; the answers themselves are rendered by
``tally.contracts.render``.
"""

from html import escape

from tally.contracts.events import Language, QuestionAnswered
from tally.contracts.render import EXAMPLES
from tally.gateway.domain.history import MAX_EXPORT_MB

MAX_SQL_CHARS = 3000
"""SQL shown by /sql is cut here, to stay within Telegram's 4096-character message limit."""
MAX_QUESTION_CHARS = 2000
"""The longest question accepted (characters), as ``QuestionAsked.text`` allows."""
MAX_BUTTON_CHARS = 40
"""Choice buttons' labels are cut here (the full labels are in the message text): the Bot
API documents no limit, but a longer label no longer fits one row on a phone."""

_TEXTS: dict[Language, dict[str, str]] = {
    "en": {
        "intro": (
            "<b>Tally</b> answers questions about video statistics with exact numbers. "
            "Ask in plain English or Russian, for example:"
        ),
        "history": (
            "Administer a group? Send me its Telegram Desktop export (result.json, format "
            "JSON, at most {limit} MB) to import its history."
        ),
        "not_text": "I understand text questions only, e.g. “How many videos are in the system?”",
        "unknown_command": "I know /start, /help and /sql; anything else, just ask it.",
        "no_answer": "Nothing to explain yet: ask a question first, then send /sql.",
        "counted": "Counted",
        "no_sql": "No SQL was run",
        "too_long": "That question is too long: please keep it under 2000 characters.",
        "slow_down": "You are sending messages too fast; please wait a moment.",
        "pick_expired": "This question has expired, please ask again.",
        "pick_not_yours": "Only the person who asked can pick a reading.",
        "ask_usage": "Ask after the command, e.g. /ask how many messages were sent here yesterday?",
        "user_usage": "Name the member after the command, e.g. /user @ann last week",
        "group_slow_down": "One question every {seconds} seconds, please.",
        "report_failed": "The statistics are not available right now; try again in a minute.",
        "handler_failed": (
            "Something went wrong on Tally's side while handling that. Please try again in a "
            "minute; if it keeps failing, tell the bot's admins."
        ),
    },
    "ru": {
        "intro": (
            "<b>Tally</b> отвечает на вопросы о статистике видео точными числами. "
            "Спрашивайте обычными словами по-русски или по-английски, например:"
        ),
        "history": (
            "Администрируете группу? Пришлите мне её экспорт из Telegram Desktop (result.json, "
            "формат JSON, не больше {limit} МБ), чтобы импортировать историю."
        ),
        "not_text": "Я понимаю только текстовые вопросы, например «Сколько всего видео?»",
        "unknown_command": "Я знаю /start, /help и /sql; всё остальное просто спросите.",
        "no_answer": "Пока нечего объяснять: сначала задайте вопрос, потом отправьте /sql.",
        "counted": "Посчитано",
        "no_sql": "SQL не выполнялся",
        "too_long": "Слишком длинный вопрос: уложитесь, пожалуйста, в 2000 символов.",
        "slow_down": "Вы пишете слишком быстро; подождите немного.",
        "pick_expired": "Этот вопрос устарел, задайте его, пожалуйста, ещё раз.",
        "pick_not_yours": "Выбрать вариант может только тот, кто задал вопрос.",
        "ask_usage": "Напишите вопрос после команды, например: /ask сколько сообщений было вчера?",
        "user_usage": "Укажите участника после команды, например: /user @ann за прошлую неделю",
        "group_slow_down": "Не чаще одного вопроса в {seconds} с, пожалуйста.",
        "report_failed": "Статистика сейчас недоступна; попробуйте через минуту.",
        "handler_failed": (
            "У Tally что-то пошло не так при обработке. Попробуйте ещё раз через минуту; "
            "если ошибка повторяется, сообщите администраторам бота."
        ),
    },
}


def help_text(language: Language) -> str:
    """The /start and /help reply (HTML): what Tally does, four example questions, and how a
    group's admin imports its history."""
    texts = _TEXTS[language]
    examples = (f"• {example}" for example in EXAMPLES[language])
    history = texts["history"].format(limit=MAX_EXPORT_MB)
    return "\n".join([texts["intro"], *examples, "", history])


def say(key: str, language: Language) -> str:
    """A short plain-text reply: ``not_text``, ``unknown_command``, ``no_answer``,
    ``too_long``, ``slow_down``, ``group_slow_down`` (a ``{seconds}`` field to fill),
    ``pick_expired``, ``pick_not_yours``, ``ask_usage``, ``user_usage``,
    ``report_failed`` or ``handler_failed``.

    Raises KeyError for any other ``key``.
    """
    return _TEXTS[language][key]


def shorten(text: str, limit: int = MAX_BUTTON_CHARS) -> str:
    """``text`` when it has at most ``limit`` characters, else its first ``limit - 1``
    (trailing spaces dropped) and "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def explain(answer: QuestionAnswered) -> str:
    """The /sql reply (HTML, escaped): the question, what was counted, the SQL and its
    parameters, in the asker's language."""
    texts = _TEXTS[answer.question.language]
    lines = [f"<i>{escape(answer.question.text)}</i>"]
    if answer.interpretation:
        lines.append(f"{texts['counted']}: {escape(answer.interpretation)}")
    if not answer.sql:
        return "\n".join([*lines, texts["no_sql"]])
    lines.append(f"<pre>{escape(answer.sql[:MAX_SQL_CHARS])}</pre>")
    lines += [
        f"<code>{escape(name)}</code> = {escape(str(value))}"
        for name, value in answer.params.items()
    ]
    return "\n".join(lines)
