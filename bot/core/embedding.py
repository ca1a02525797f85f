"""Static word embeddings: a question's meaning as the average of its tokens' vectors.

Word and character n-grams only see shared spelling; "the weather in geneva" and "harsher
sentences" share none with the facts they are near or far from. The vectors come from
WordLlama (MIT), whose PyPI wheel ships the token embedding table of a Llama-2 model distilled
for sentence similarity, and its tokenizer: no download, no network, deterministic. They are
Matryoshka-trained, so the first DIMENSIONS columns are a usable embedding on their own.

The files are read directly (safetensors, tokenizers) instead of through `wordllama`'s loader:
importing that package sets the root logger to INFO, which would let httpx log request URLs
with the bot token, and its loader looks for the tokenizer in the wrong folder and then tries
to download it.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

# 64 of the 256 columns: on the CLINC150 validation split as accurate as 128 or 256 when added
# to the linear model (94.3% top-1 against 93.1% without), at a quarter of the cost.
DIMENSIONS = 64
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


class Embedder:
    """Unit-length mean token vectors of folded text (lowercase words between single spaces).

    Llama's tokenizer splits at spaces before merging, so a text's tokens are its words'
    tokens in order: each word is tokenized once and remembered. Tokenizing whole questions
    took 80 µs of a 1 ms answer, mostly cold-cache work in the tokenizer; a dictionary lookup
    per word takes a few µs.
    """

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = tokenizer
        self._word_ids = functools.lru_cache(maxsize=200_000)(self._tokenize)

    def _tokenize(self, word: str) -> tuple[int, ...]:
        return tuple(self.tokenizer.encode(word, add_special_tokens=False).ids)

    def ids(self, text: str) -> list[int]:
        return [i for word in text.split() for i in self._word_ids(word)]

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, as `embed_one` gives it."""
        vectors = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row] = self.embed_one(text)
        return vectors

    def embed_one(self, text: str) -> np.ndarray:
        """The zero vector for a text without tokens."""
        ids = self.ids(text)
        if not ids:
            return np.zeros(self.table.shape[1], dtype=np.float32)
        mean = self.table[ids].mean(axis=0)
        norm = np.linalg.norm(mean)
        return mean / norm if norm else mean


@functools.cache
def embedder() -> Embedder:
    """The process's one embedder (8 MB), read on first use."""
    spec = importlib.util.find_spec("wordllama")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("wordllama is not installed: run `make venv`")
    package = Path(next(iter(spec.submodule_search_locations)))
    table = load_file(package / _WEIGHTS)["embedding.weight"][:, :DIMENSIONS]
    return Embedder(table, Tokenizer.from_file(str(package / _TOKENIZER)))
