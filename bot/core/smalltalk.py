"""Greetings, thanks and "what can you do": recognised before any fact matching.

These must never be answered with a fact (a "thanks" that returns the Geneva chair's name is
the kind of mistake that costs trust), and never be logged as unanswered questions.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from bot.core.text import fold

_REPLIES = {
    "greeting": "Hello! Ask me about the UN and OSCE meetings on gender equality and trafficking "
    "(2002-2008): who met, when, where, who chaired, what was decided.",
    "thanks": "You're welcome. Ask me anything else about the meetings.",
    "capabilities": "I answer questions about five UN and OSCE meetings on gender equality and "
    "human trafficking (2002-2008) and the events they announced: dates, places, chairs, "
    "participants, decisions and recommendations. Every answer cites its document, paragraph and "
    'the exact words. Try: "Who chaired the Beijing+10 review in Geneva?" or "What meetings '
    'were held in 2007?"',
    "goodbye": "Goodbye! Come back any time.",
    "wellbeing": "I'm fine, thanks. What would you like to know about the meetings?",
}

_EXAMPLES = {
    "greeting": ["hi", "hello", "hey", "hey there", "hi there", "hello there", "good morning",
                 "good afternoon", "good evening", "greetings", "hiya", "howdy", "yo", "hallo",
                 "start", "hello bot", "hi bot"],
    "thanks": ["thanks", "thank you", "thx", "ty", "cheers", "thanks a lot", "thank you very much",
               "many thanks", "much appreciated", "great thanks", "ok thanks", "perfect thanks",
               "thanks bot", "thank u", "great", "ok", "okay", "cool", "nice", "got it"],
    "capabilities": ["what can you do", "help", "who are you", "what are you", "what do you know",
                     "how does this work", "what is this bot", "what is this", "how do i use you",
                     "what can i ask", "what can i ask you", "what do you do", "about",
                     "what are you for", "what questions can you answer"],
    "goodbye": ["bye", "goodbye", "see you", "see ya", "bye bye", "good night"],
    "wellbeing": ["how are you", "how are you doing", "hows it going", "how r u"],
}  # fmt: skip

_CHOICES = [(text, kind) for kind, texts in _EXAMPLES.items() for text in texts]
_TEXTS = [text for text, _ in _CHOICES]
_MENTION = re.compile(r"@\w+")


def smalltalk(question: str) -> tuple[str, str] | None:
    """(kind, reply) when the whole message is small talk, else None."""
    folded = fold(_MENTION.sub(" ", question))
    if not folded or len(folded.split()) > 6:
        return None
    best = process.extractOne(folded, _TEXTS, scorer=fuzz.ratio, score_cutoff=88)
    if best is None:
        return None
    kind = _CHOICES[best[2]][1]
    return kind, _REPLIES[kind]
