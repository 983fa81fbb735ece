"""Fixed dialogue wording in both languages (answers themselves come from the knowledge base)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "zh-TW": "您好，我是 civicbot 智慧客服。請直接輸入您的問題，例如「可以刷卡繳嗎？」、「可以分期繳納嗎？」，"
        "或點選下方的常見服務。",
        "en": 'Hello, I am civicbot. Type your question, for example "Can I pay by credit card?" or '
        '"Can I pay in instalments?", or pick one of the services below.',
    },
    "capabilities": {
        "zh-TW": "我可以依各機關公開的服務資料回答：繳款方式、分期或緩繳、拍賣投標、案件進度查詢、申訴與檢舉管道，"
        "以及服務時間、地點、表單與線上申辦等問題。每個答案都會附上資料來源。我也可以在您驗證身分後查詢案件進度，"
        "或告訴您如何聯絡承辦同仁。",
        "en": "I answer from the agencies' published service information: ways to pay, instalments or deferral, "
        "auctions, case progress, complaint and reporting channels, opening hours, locations, forms and online "
        "services. Every answer carries its source. I can also look up your case's progress once you verify it, "
        "or tell you how to reach a person.",
    },
    "thanks": {
        "zh-TW": "不客氣！還有其他問題都可以再問我。",
        "en": "You're welcome! Ask me anything else any time.",
    },
    "goodbye": {
        "zh-TW": "感謝您的使用，祝您順心！",
        "en": "Thank you for visiting. Goodbye!",
    },
    "cancelled": {
        "zh-TW": "好的，已取消。請問還有什麼可以幫您？",
        "en": "OK, cancelled. What else can I help you with?",
    },
    "choose_agency": {
        "zh-TW": "這個問題各機關的做法不同。請問您要詢問哪一個機關？",
        "en": "The answer differs by agency. Which agency is your question about?",
    },
    "choose_agency_for": {
        "zh-TW": "請問您要洽詢哪一個機關？",
        "en": "Which agency is this about?",
    },
    "did_you_mean": {
        "zh-TW": "我不太確定您的意思，您是想問下列哪一個問題嗎？",
        "en": "I am not sure I understood. Did you mean one of these?",
    },
    "related": {"zh-TW": "相關問題", "en": "Related questions"},
    "feedback_thanks": {
        "zh-TW": "謝謝您的回饋！",
        "en": "Thank you for your feedback!",
    },
    "feedback_unknown": {
        "zh-TW": "找不到要評分的回答，可能已經過期了。",
        "en": "I could not find the answer you rated; it may have expired.",
    },
    "complaint_kind": {
        "zh-TW": "請問您想反映的是哪一類問題？",
        "en": "What kind of complaint or report is it?",
    },
    "handoff_lead": {
        "zh-TW": "需要專人協助時，可以透過下列方式聯絡承辦同仁：",
        "en": "To reach a person, use the agency's channels below:",
    },
    "handoff_after_fallbacks": {
        "zh-TW": "抱歉，我連續兩次沒能回答您的問題。建議您直接聯絡機關的服務窗口：",
        "en": "Sorry, I could not answer twice in a row. You may want to contact the agency's service desk:",
    },
    "handoff_missing": {
        "zh-TW": "知識庫中還沒有這個機關的服務窗口資料，請查閱該機關官方網站的聯絡資訊。",
        "en": "The knowledge base has no service-desk details for this agency yet; please see its official "
        "website for contact details.",
    },
    "case_ask_number": {
        "zh-TW": "請輸入您的案號（例如：{example}）。輸入「取消」可離開查詢。",
        "en": 'Please type your case number (for example: {example}). Type "cancel" to stop.',
    },
    "case_ask_verifier": {
        "zh-TW": "為保護您的資料，請輸入身分證統一編號（或居留證號）末四碼，或通知書上的查詢碼。",
        "en": "To protect your data, please type the last four characters of your national ID (or resident "
        "certificate) number, or the query code printed on your notice.",
    },
    "case_not_verified": {
        "zh-TW": "案號或驗證資料不符，請確認後再試一次。連續錯誤五次將暫停查詢 15 分鐘。",
        "en": "The case number or verification details do not match. Please check and try again. After five "
        "failed attempts, lookups are paused for 15 minutes.",
    },
    "case_locked": {
        "zh-TW": "驗證失敗次數過多，查詢已暫停，請於 {until} 後再試，或直接聯絡承辦股。",
        "en": "Too many failed attempts; lookups are paused until {until}. Please try again later or contact the "
        "handling unit directly.",
    },
    "case_unavailable": {
        "zh-TW": "案件系統暫時無法連線，請稍後再試，或直接聯絡承辦股。",
        "en": "The case system is unavailable right now. Please try again later or contact the handling unit.",
    },
    "case_result": {
        "zh-TW": "案號 {number}\n辦理情形：{status}\n尚欠金額：{amount}\n承辦單位：{unit}\n聯絡電話：{phone}",
        "en": "Case {number}\nStatus: {status}\nAmount outstanding: {amount}\nHandling unit: {unit}\nPhone: {phone}",
    },
    "case_demo": {
        "zh-TW": "（示範資料，非真實案件）",
        "en": "(demo data, not a real case)",
    },
    "case_amount_unknown": {"zh-TW": "請洽承辦股", "en": "please ask the handling unit"},
    "case_give_up": {
        "zh-TW": "案號格式仍不正確，已離開案件查詢。您可以再輸入「查詢案件進度」重新開始。",
        "en": 'The case number is still not valid, so I stopped the lookup. Type "check my case" to start again.',
    },
    "qr_cancel": {"zh-TW": "取消", "en": "Cancel"},
    "qr_case": {"zh-TW": "查詢我的案件進度", "en": "Check my case"},
    "qr_handoff": {"zh-TW": "聯絡承辦同仁", "en": "Contact a person"},
    "qr_complaint": {"zh-TW": "申訴或檢舉", "en": "Complaints"},
    "qr_pay": {"zh-TW": "繳款方式", "en": "Ways to pay"},
    "qr_instalment": {"zh-TW": "分期繳納", "en": "Instalments"},
    "qr_auction": {"zh-TW": "拍賣投標", "en": "Auctions"},
}


def t(key: str, language: str, **values: object) -> str:
    """The text for `key` in `language` (zh-TW when not English), with values filled in."""
    text = TEXTS[key]["en" if language == "en" else "zh-TW"]
    return text.format(**values) if values else text
