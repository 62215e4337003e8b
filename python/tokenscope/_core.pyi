"""Type stubs of tokenscope._core, the C++ engine (nanobind). Use it through `tokenscope`, which re-exports these
classes and wraps Model to resolve model names ("demo", "smollm2-135m")."""

from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

# A document: text (tokenized with the model's BOS) or token ids (scored as given).
Document = Union[str, bytes, Sequence[int], npt.NDArray[np.integer]]
Documents = Union[str, bytes, npt.NDArray[np.integer], Sequence[Document]]

class Tokenizer:
    """The model's tokenizer (SentencePiece BPE or byte-level BPE), read from the GGUF metadata."""
    def encode(self, text: Union[str, bytes], add_special: bool = True,
               parse_special: bool = True) -> npt.NDArray[np.int32]:
        """Token ids of a text. add_special: BOS/EOS as the metadata says; parse_special: '<s>' text becomes the
        special token (as `tokenscope tokenize`; `score` uses False)."""
    def encode_with_offsets(self, text: Union[str, bytes], add_special: bool = True, parse_special: bool = True
                            ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        """(ids, offsets): ids and the byte offset in the UTF-8 text where each token starts."""
    def decode(self, ids: Union[Sequence[int], npt.NDArray[np.integer]], strip_prefix_space: bool = True) -> str:
        """The text of token ids (control tokens give nothing; invalid UTF-8 becomes U+FFFD)."""
    def decode_bytes(self, ids: Union[Sequence[int], npt.NDArray[np.integer]],
                     strip_prefix_space: bool = True) -> bytes:
        """The raw bytes of token ids."""
    def token_text(self, id: int) -> str:
        """The token as stored in the vocabulary ('▁The', 'Ġthe', '<0x0A>')."""
    def token_bytes(self, id: int) -> bytes:
        """The raw bytes the token stands for."""
    def token_id(self, text: str) -> int:
        """Exact vocabulary lookup; -1 when absent."""
    def __len__(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def bos_id(self) -> int:
        """BOS token id, -1 when absent."""
    @property
    def eos_id(self) -> int:
        """EOS token id, -1 when absent."""
    @property
    def add_bos(self) -> bool: ...
    @property
    def model(self) -> str:
        """'llama' (SentencePiece BPE) or 'gpt2' (byte-level BPE)."""
    @property
    def pre(self) -> str:
        """The pre-tokenizer used."""

class ScoreResult:
    """One scored document: arrays with one entry per predicted token (every token but the first)."""
    input_ids: npt.NDArray[np.int32]
    """[n+1] the whole token sequence, BOS included."""
    token_ids: npt.NDArray[np.int32]
    """[n] the predicted tokens (input_ids[1:])."""
    positions: npt.NDArray[np.int64]
    """[n] index of each predicted token in input_ids."""
    offsets: npt.NDArray[np.int64]
    """[n] byte offset of each token's text in the UTF-8 input (ids input: in the concatenated token bytes)."""
    logprob: npt.NDArray[np.float64]
    """[n] log p(token | the tokens before it), natural log."""
    entropy: npt.NDArray[np.float64]
    """[n] entropy of the next-token distribution, nats."""
    varentropy: npt.NDArray[np.float64]
    """[n] variance of log p under p, nats²."""
    rank: npt.NDArray[np.int64]
    """[n] rank of the token, 1 = most likely."""
    top_ids: npt.NDArray[np.int32]
    """[n, top] the most likely tokens, most likely first."""
    top_logprobs: npt.NDArray[np.float64]
    """[n, top] their log-probabilities."""
    summary: dict[str, Any]
    """tokens, nll (mean negative log-likelihood, nats), nll_sum, ppl = exp(nll), bytes, bits_per_byte."""
    def __len__(self) -> int: ...

class GenerateResult:
    """A generated continuation with every token's raw and processed distribution."""
    text: str
    """The continuation (not the prompt); invalid UTF-8 as U+FFFD."""
    bytes: bytes
    """The continuation's raw bytes."""
    ids: npt.NDArray[np.int32]
    """[n] generated token ids."""
    prompt_ids: npt.NDArray[np.int32]
    """The prompt's token ids."""
    logprob: npt.NDArray[np.float64]
    """[n] raw log p(token), natural log."""
    rank: npt.NDArray[np.int64]
    """[n] raw rank, 1 = most likely."""
    entropy: npt.NDArray[np.float64]
    """[n] raw entropy, nats."""
    varentropy: npt.NDArray[np.float64]
    """[n] raw varentropy, nats²."""
    p_logprob: npt.NDArray[np.float64]
    """[n] log P(token) under the sampler chain's processed distribution."""
    kept: npt.NDArray[np.int64]
    """[n] tokens the chain kept."""
    p_entropy: npt.NDArray[np.float64]
    """[n] entropy of the chain's distribution, nats."""
    changed: npt.NDArray[np.bool_]
    """[n] the chain chose other than the raw argmax."""
    top_ids: npt.NDArray[np.int32]
    """[n, top] raw most likely tokens (-1 past the end)."""
    top_logprobs: npt.NDArray[np.float64]
    """[n, top] their raw log-probabilities (-inf past the end)."""
    p_top_ids: npt.NDArray[np.int32]
    """[n, top] the chain's most likely tokens (-1 past the end)."""
    p_top_logprobs: npt.NDArray[np.float64]
    """[n, top] their processed log-probabilities."""
    summary: dict[str, Any]
    """prompt_tokens, tokens, tokens_per_s, prompt_s, seconds, stop ('length'|'eos'|'context'), seed, samplers."""
    def __len__(self) -> int: ...

class Model:
    """A GGUF language model; one object serves several Python threads at once."""
    def __init__(self, path: str, threads: int = 0, precision: str = "int16", load: str = "auto") -> None: ...
    @property
    def path(self) -> str:
        """The GGUF file."""
    threads: int
    """Engine threads per call (0: all cores)."""
    @property
    def precision(self) -> str:
        """Precision of the matrix products: int16 (the default), exact or fast."""
    @property
    def weights_copied(self) -> bool:
        """Whether the weights were copied into memory (load='copy', or 'auto''s choice) rather than mapped."""
    @property
    def tokenizer(self) -> Tokenizer: ...
    @property
    def arch(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def n_vocab(self) -> int: ...
    @property
    def n_ctx_train(self) -> int: ...
    @property
    def n_embd(self) -> int: ...
    @property
    def n_layer(self) -> int: ...
    def score(self, docs: Documents, top: int = 5, ctx: int = 0, batch: int = 256,
              parse_special: bool = False) -> list[ScoreResult]:
        """Scores documents as `tokenscope score --jsonl` does; one ScoreResult per document.

        docs: a list of texts (tokenized with the model's BOS) or token-id sequences (scored as given); a single str
        or 1-D integer array is one document. top: alternatives per token. ctx: window (0: the model's, at most
        4096), longer texts slide with stride ctx/2. batch: positions per forward pass. parse_special: '<s>' text
        becomes the special token. Raises ValueError with the CLI's message on bad input."""
    def generate(self, prompt: Document, max_tokens: int = 128, samplers: str = "default",
                 seed: Optional[int] = None, top: int = 5, ignore_eos: bool = False, ctx: int = 0,
                 parse_special: bool = True) -> GenerateResult:
        """Continues a prompt with a sampler chain, as `tokenscope generate --format jsonl` does.

        samplers: a chain spec ('min_p=0.05;temp=0.8') or preset ('default', 'hf', 'greedy'). seed: None draws one
        (summary['seed']). The same seed gives the CLI's tokens."""
    def detect(self, docs: Documents, methods: str = "all", sampler: Optional[Model] = None,
               observer: Optional[Model] = None, performer: Optional[Model] = None, ctx: int = 0, batch: int = 256,
               parse_special: bool = False) -> dict[str, npt.NDArray[Any]]:
        """Zero-shot machine-text detectors per document, as `tokenscope detect`: a dict of arrays, one value per
        document (tokens, log_likelihood, log_rank, lrr, neg_entropy, fast_detectgpt [, fast_detectgpt_white_box],
        binoculars). This model is the scoring model; sampler: Fast-DetectGPT's sampling model; observer / performer:
        Binoculars' (defaults as the CLI). NaN for a document with no predicted token."""
