"""``Embedding`` (``torch.nn.modules.sparse``): a lookup table of ``num_embeddings`` vectors of
size ``embedding_dim``, initialised from N(0, 1) (the ``padding_idx`` row zeroed)."""
import rt_autograd as rt

from rt_nn import init
from rt_nn._functional.sparse import embedding
from rt_nn.modules.module import Module
from rt_nn.parameter import Parameter

__all__ = ["Embedding"]


def _check_size(name, value):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"Embedding: {name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"Embedding: {name} must be non-negative, got {name}={value}")


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at integer indices: input of any
    shape -> (*input.shape, embedding_dim). ``padding_idx`` (negative counts from the end): that
    row starts at zero and gets no gradient. ``max_norm``: looked-up rows with a larger
    ``norm_type``-norm are renormalised in place.

    >>> import rt_autograd as rt
    >>> emb = Embedding.from_pretrained(rt.tensor([[0., 1.], [2., 3.]]))
    >>> emb(rt.tensor([1, 0, 1])).tolist()
    [[2.0, 3.0], [0.0, 1.0], [2.0, 3.0]]
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        _check_size("num_embeddings", num_embeddings)
        _check_size("embedding_dim", embedding_dim)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= self.num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -self.num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = self.num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(rt.empty((num_embeddings, embedding_dim), dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with rt.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = "{num_embeddings}, {embedding_dim}"
        if self.padding_idx is not None:
            s += ", padding_idx={padding_idx}"
        if self.max_norm is not None:
            s += ", max_norm={max_norm}"
        if self.norm_type != 2:
            s += ", norm_type={norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq={scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s.format(**self.__dict__)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-d; shared, not copied), frozen
        (requires_grad=False) unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
