"""Channel-neutral dialogue: the conversation state machine every channel (web, LINE, Telegram, Rasa) uses."""
