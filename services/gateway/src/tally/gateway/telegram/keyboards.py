"""Every inline keyboard the bot shows, and the callback data of its buttons.

- under an answer with a number: 👍/👎 (:class:`FeedbackButton`, ``fb:<up|down>:<question>``);
- under an ambiguous question: one button per reading (:class:`PickButton`,
  ``pick:<question>:<n>``);
- under a firing alert: Acknowledge, Silence 1h, Silence 24h, Mute until resolved
  (:class:`AlertButton`, ``al:<action>:<group>``), replaced once done by one status line;
- under a group's /settings: store text on/off, and the retention choices
  (:class:`SettingsButton`, ``set:<text|keep>:<value>``).

Telegram allows at most 64 bytes of callback data per button; each kind here stays under 45.
"""

from dataclasses import dataclass
from typing import Final, Literal
from uuid import UUID

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from tally.contracts.alerting import FINGERPRINT_PATTERN, CommandAction
from tally.contracts.chat_events import ChatSettings
from tally.contracts.events import Language, QuestionAnswered
from tally.gateway.domain.settings import RETENTION_CHOICES, retention_label, text
from tally.gateway.domain.texts import shorten


class FeedbackButton(CallbackData, prefix="fb"):
    """Callback data of a feedback button: ``fb:<up|down>:<question id>`` (42 bytes)."""

    verdict: Literal["up", "down"]
    question: UUID


class PickButton(CallbackData, prefix="pick"):
    """Callback data of a choice button: ``pick:<question id>:<n>``, the id as 32 hex digits
    and ``n`` from 1 (39 bytes)."""

    question: UUID
    number: int


class AlertButton(CallbackData, prefix="al"):
    """Callback data of an alert button: ``al:<action>:<group id, 16 hex digits>`` (at most
    26 bytes)."""

    action: str
    group: str = Field(pattern=FINGERPRINT_PATTERN)


class SettingsButton(CallbackData, prefix="set"):
    """Callback data of a /settings button: ``set:text:<0|1>`` (store text off/on) or
    ``set:keep:<days>`` (retention; 0 keeps everything), at most 13 bytes."""

    action: Literal["text", "keep"]
    value: int = Field(ge=0, le=36_500)


@dataclass(frozen=True, slots=True)
class ButtonAction:
    """What an alert button sends (``action`` for ``duration_s`` seconds), its label, and the
    line that replaces the buttons once done ("Silenced 1h" + " by @name")."""

    action: CommandAction
    duration_s: float | None
    label: str
    done: str


ALERT_BUTTONS: Final = {
    "ack": ButtonAction("ack", None, "Acknowledge", "✔ Acknowledged"),
    "s1h": ButtonAction("silence", 3600.0, "Silence 1h", "🔕 Silenced 1h"),
    "s24h": ButtonAction("silence", 86400.0, "Silence 24h", "🔕 Silenced 24h"),
    "mute": ButtonAction("mute", None, "Mute until resolved", "🔇 Muted until resolved"),
}
"""The alert buttons by their callback action."""
DONE: Final = "done"
"""The action of the status line that replaced the alert buttons (a press only gets answered)."""


def feedback_keyboard(question_id: UUID) -> InlineKeyboardMarkup:
    """👍 and 👎 in one row, under an answer to question ``question_id`` (made directly, as
    every answer has one: aiogram's InlineKeyboardBuilder deep-copies its buttons)."""
    up = FeedbackButton(verdict="up", question=question_id).pack()
    down = FeedbackButton(verdict="down", question=question_id).pack()
    row = [
        InlineKeyboardButton(text="👍", callback_data=up),
        InlineKeyboardButton(text="👎", callback_data=down),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def choices_keyboard(answer: QuestionAnswered) -> InlineKeyboardMarkup:
    """One button per reading of ``answer``, one per row, labelled with its shortened label."""
    builder = InlineKeyboardBuilder()
    for number, choice in enumerate(answer.choices, 1):
        button = PickButton(question=answer.question.question_id, number=number)
        builder.button(text=shorten(choice.label), callback_data=button)
    builder.adjust(1)
    return builder.as_markup()


def answer_keyboard(answer: QuestionAnswered) -> InlineKeyboardMarkup | None:
    """The buttons under ``answer``: its readings when it asks back, 👍/👎 under an answered
    one, none under a refusal or failure."""
    if answer.choices:
        return choices_keyboard(answer)
    if answer.outcome == "answered":
        return feedback_keyboard(answer.question.question_id)
    return None


def alert_keyboard(group_id: str) -> InlineKeyboardMarkup:
    """The buttons under a firing notification of group ``group_id``: Acknowledge; Silence
    1h, Silence 24h; Mute until resolved (three rows)."""
    rows = (("ack",), ("s1h", "s24h"), ("mute",))
    return InlineKeyboardMarkup(
        inline_keyboard=[[_alert_button(key, group_id) for key in row] for row in rows]
    )


def done_keyboard(group_id: str, line: str) -> InlineKeyboardMarkup:
    """One button reading ``line`` (who did what), where the alert buttons were."""
    status = AlertButton(action=DONE, group=group_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=line, callback_data=status)]]
    )


def _alert_button(key: str, group_id: str) -> InlineKeyboardButton:
    data = AlertButton(action=key, group=group_id).pack()
    return InlineKeyboardButton(text=ALERT_BUTTONS[key].label, callback_data=data)


def settings_keyboard(settings: ChatSettings, language: Language) -> InlineKeyboardMarkup:
    """Under the /settings card: one button that turns text storage the other way; one row
    of the retention choices, the current one ticked."""
    turn = not settings.store_text
    label = text("text_on" if turn else "text_off", language)
    rows = [[_settings_button(label, SettingsButton(action="text", value=int(turn)))]]
    keep = []
    for days in RETENTION_CHOICES:
        mark = "✓ " if days == settings.retention_days else ""
        value = text("keep", language, value=retention_label(days, language))
        keep.append(_settings_button(mark + value, SettingsButton(action="keep", value=days or 0)))
    rows += [keep[:2], keep[2:]]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _settings_button(label: str, data: SettingsButton) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=data.pack())
