"""Domain types: what the knowledge base holds and what an answer carries out."""
