"""Conversation-level intents recognised before FAQ matching: greetings, thanks, help, hand-off, case lookup…

These are rules over the normalised text, deliberately narrow: anything they do not claim goes to the
FAQ matcher. A greeting in front of a real question ("您好，請問可以刷卡嗎") is stripped, not answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.normalize import normalize

_GREETING = (
    r"(?:哈囉|哈摟|嗨|你好|您好|妳好|大家好|早安|午安|晚安|安安|在嗎|有人在嗎|有人嗎|hello|hi|hey|"
    r"good (?:morning|afternoon|evening)|哈囉你好)"
)
_LEADING_GREETING = re.compile(rf"^(?:{_GREETING})(?:\s+|(?=[\u4e00-\u9fff]))(?:請問\s*)?")
_WHOLE = {
    "greeting": re.compile(rf"^(?:{_GREETING})(?:\s*(?:{_GREETING}))*(?:\s*(?:啊|呀|喔|哦|~))?$"),
    "thanks": re.compile(
        r"^(?:(?:謝謝|感謝|多謝|感恩|謝啦|謝了|thx|thanks|thank you|ty|好的謝謝|了解謝謝|ok謝謝|好的|了解|明白了?|"
        r"知道了|收到|ok|okay|great|got it)(?:\s*(?:你|您|妳|喔|啦|囉|了|so much|very much|a lot))*\s*)+$"
    ),
    "goodbye": re.compile(r"^(?:再見|掰掰|拜拜|bye|goodbye|see you)(?:\s*\S{0,3})$"),
    "capabilities": re.compile(
        r"(?:你|您|妳)?(?:可以|能|會)(?:做|幫|回答|問)(?:我)?(?:什麼|甚麼|哪些|些什麼)|你是誰|你是什麼|"
        r"^(?:help|幫助|說明|使用說明|功能|選單|menu|start)$|what can you do|what do you do|who are you|"
        r"^how (?:do|can) i use"
    ),
    "handoff": re.compile(
        r"真人|專人|人工|轉接|客服人員|找人講|找承辦|跟人講|活人|"
        r"(?:talk|speak|chat) (?:to|with) (?:a |an )?(?:human|person|agent|someone|staff)|real person|human agent"
    ),
    "case_lookup": re.compile(
        r"(?:查|查詢|看|確認)(?:一下)?(?:我的|我|本人)?(?:的)?(?:案件|案子|執行案件|案號)(?:的)?(?:進度|狀態|狀況|辦到哪)|"
        r"我的(?:案件|案子)(?:進度|狀態|狀況|辦到|到哪)|案件進度查詢|"
        r"check (?:on )?my case|my case status|status of my case|case lookup|look up my case"
    ),
    "cancel": re.compile(r"^(?:取消|不用了|不要了|算了|結束|離開|退出|cancel|stop|quit|exit|never ?mind)$"),
}
_COMPLAINT = re.compile(r"申訴|投訴|抱怨|陳情|檢舉|客訴|反映意見|complain|complaint|report (?:a|an) ")


@dataclass(frozen=True)
class Intent:
    """A conversation-level intent and the question text left after stripping a greeting."""

    name: str | None  # greeting | thanks | goodbye | capabilities | handoff | case_lookup | cancel | None
    rest: str  # the cleaned text to send to the matcher when `name` is None


def detect(text: str) -> Intent:
    """Recognise a conversation-level intent in cleaned input; otherwise return the text to match."""
    norm = normalize(text)
    for name in ("greeting", "thanks", "goodbye", "cancel", "capabilities"):
        if _WHOLE[name].search(norm):
            return Intent(name, text)
    stripped = _LEADING_GREETING.sub("", norm, count=1)
    if stripped != norm and stripped:
        text = stripped
        norm = stripped
    if _WHOLE["handoff"].search(norm):
        return Intent("handoff", text)
    if _WHOLE["case_lookup"].search(norm):
        return Intent("case_lookup", text)
    return Intent(None, text)


def mentions_complaint(text: str) -> bool:
    """True when the citizen wants to complain or report something (routing asks what kind)."""
    return bool(_COMPLAINT.search(normalize(text)))
