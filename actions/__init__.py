"""civicbot's Rasa custom actions: thin rasa-sdk adapters over the same `bot` services every channel uses.

Run them with `python -m rasa_sdk --actions actions` in civicbot's environment; nothing is built
until the first action runs (the composition root is `bot.bootstrap`).
"""
