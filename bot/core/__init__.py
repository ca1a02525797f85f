"""The knowledge base and the answer engine. Nothing here knows about Telegram."""

from bot.core.engine import Context, Engine, Thresholds
from bot.core.knowledge import Knowledge, KnowledgeError, load_knowledge
from bot.core.replies import Alternative, Reply, SourceRef, Status

__all__ = [
    "Alternative",
    "Context",
    "Engine",
    "Knowledge",
    "KnowledgeError",
    "Reply",
    "SourceRef",
    "Status",
    "Thresholds",
    "load_knowledge",
]
