"""Case numbers: per-agency formats, lenient parsing of what citizens type, one canonical form.

Both supported kinds of agency write case numbers the same way — ROC year, case-type word (字別),
serial: `113年度營稅執字第00012345號` (Administrative Enforcement Agency branches: tax, insurance,
fine and fee enforcement, 8-digit zero-padded serial) and `113年度偵字第1234號` (district
prosecutors' office: investigation, execution… serial without padding). Citizens type them
sloppily — full-width digits, no 年度/字第/號, spaces or dashes, an agency name in front,
simplified characters — so `113營稅執12345` and `１１３年度營稅執字第００１２３４５號` both mean the
canonical `113年度營稅執字第00012345號`. The Tainan Motor Vehicles Station has no cases in this
sense (its applications are tracked on the station's own channels), so it has no scheme here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_INPUT_CHARS = 200
MIN_YEAR, MAX_YEAR = 80, 150  # ROC years 1991–2061


@dataclass(frozen=True)
class Scheme:
    """One agency family's case-number format."""

    code: str
    words: frozenset[str]  # the case-type words (字別) this family issues
    pad: int  # zero-pad the serial to this many digits (0: no padding)
    max_digits: int  # significant digits a serial may have
    example: str
    sloppy_example: str

    def hint(self) -> tuple[str, str]:
        """The expected format, in Chinese and English, with an example."""
        padding = f"{self.pad}位數字" if self.pad else "數字"
        zh = (
            f"案號格式為「年度＋字別＋字第＋{padding}＋號」，例如：{self.example}"
            f"（也可以簡寫成 {self.sloppy_example}）。案號印在您收到的通知或公文上。"
        )
        en = (
            f"A case number has the ROC year, the case type and a serial, for example {self.example}"
            f" (the short form {self.sloppy_example} also works). It is printed on the notice you received."
        )
        return zh, en


_AEA_TAX = ("綜所稅", "營所稅", "營稅", "牌稅", "地稅", "房稅", "土增稅", "契稅", "印稅", "貨稅", "遺稅", "贈稅")
_AEA_OTHER = ("健保", "勞保", "勞退", "國年", "罰", "費")
AEA = Scheme(
    code="aea",
    # "特專"/"專" mark large or specially handled cases: 112年度綜所稅執特專字第00001234號.
    words=frozenset(f"{w}執{s}" for w in _AEA_TAX + _AEA_OTHER for s in ("", "專", "特專")),
    pad=8,
    max_digits=8,
    example="113年度營稅執字第00012345號",
    sloppy_example="113營稅執12345",
)
PROSECUTOR = Scheme(
    code="prosecutor",
    words=frozenset({"偵", "偵緝", "調偵", "他", "相", "核交", "執", "執聲", "執助", "緩"}),
    pad=0,
    max_digits=6,
    example="113年度偵字第1234號",
    sloppy_example="113偵1234",
)

# Agency code -> scheme. Agencies missing here have no case lookup (see bot.services.case_lookup).
AGENCY_SCHEMES: dict[str, Scheme] = {
    "aea-taichung": AEA,
    "aea-yilan": AEA,
    "aea-hsinchu": AEA,
    "tpo-taitung": PROSECUTOR,
}


@dataclass(frozen=True)
class CaseNumber:
    """A parsed case number."""

    year: int
    word: str
    serial: int
    scheme: Scheme

    @property
    def canonical(self) -> str:
        """The one stored and displayed form."""
        serial = str(self.serial).zfill(self.scheme.pad)
        return f"{self.year}年度{self.word}字第{serial}號"

    @property
    def masked(self) -> str:
        """The canonical form with the serial's last four digits hidden, for audit records."""
        serial = str(self.serial).zfill(self.scheme.pad)
        shown = serial[:-4] if len(serial) > 4 else ""
        return f"{self.year}年度{self.word}字第{shown}{'*' * (len(serial) - len(shown))}號"


# Simplified / Japanese forms of the characters case numbers use.
_FOLDS = str.maketrans(
    {
        "执": "執", "侦": "偵", "缉": "緝", "调": "調", "税": "稅", "营": "營", "综": "綜", "劳": "勞",
        "罚": "罰", "费": "費", "赠": "贈", "遗": "遺", "货": "貨", "号": "號", "国": "國", "缓": "緩",
        "声": "聲", "増": "增", "检": "檢", "検": "檢", "台": "臺", "专": "專",
    }
)  # fmt: skip
_SEPARATORS = re.compile(
    r"[\s\-_/\\.,:;'\"()\[\]{}<>|~·、，。：；「」『』【】〔〕《》〈〉‐‑‒–—―−\u200b-\u200f\u2060\ufeff]+"
)
_AGENCY_PREFIX = re.compile(r"^[\u4e00-\u9fff]{0,12}?(?:分署|地檢署|地檢|地方檢察署|地方法院檢察署)")
_SHAPE = re.compile(
    r"(?P<year>[0-9]{2,3})(?:年度|年)?(?P<word>[\u4e00-\u9fff]{1,6}?)(?:字第|字|第)?(?P<serial>[0-9]{1,10})號?"
)


def scheme_for(agency: str | None) -> Scheme | None:
    """The case-number scheme of an agency, or None when it has no case lookup."""
    return AGENCY_SCHEMES.get(agency or "")


def parse_case_number(text: str, agency: str | None) -> CaseNumber | None:
    """Parse what a citizen typed as a case number of `agency`; None when it is not one. Never raises."""
    scheme = scheme_for(agency)
    if scheme is None or not isinstance(text, str) or len(text) > MAX_INPUT_CHARS:
        return None
    folded = unicodedata.normalize("NFKC", text).translate(_FOLDS)
    folded = _SEPARATORS.sub("", folded)
    folded = _AGENCY_PREFIX.sub("", folded, count=1)
    match = _SHAPE.fullmatch(folded)
    if match is None:
        return None
    year, word, serial = int(match["year"]), match["word"], int(match["serial"])
    if not MIN_YEAR <= year <= MAX_YEAR or word not in scheme.words:
        return None
    if serial == 0 or len(str(serial)) > scheme.max_digits:
        return None
    return CaseNumber(year, word, serial, scheme)


def canonical_case_number(text: str, agency: str | None) -> str | None:
    """The canonical form of `text` for `agency`, or None. Idempotent on its own output."""
    parsed = parse_case_number(text, agency)
    return parsed.canonical if parsed else None
