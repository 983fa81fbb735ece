"""Chat-platform adapters (LINE, Telegram): platform events in, `Inbound` to the dialogue, `Reply` out as messages."""
