"""``gemini``: Gemini ``generateContent`` image output (``provider``) and Google's error envelope
(``errors``)."""
