"""The public API is explicit and locked (rt_nn.__all__ and rt_nn.functional.__all__ equal
the lists next to this file), and every name the issue asks for exists."""
import pathlib

import rt_nn as nn
import rt_nn.functional as F
from rt_nn import data, init, utils

HERE = pathlib.Path(__file__).parent

MODULES = """Module Parameter Sequential ModuleList ModuleDict ParameterList ParameterDict Identity
Linear Bilinear Flatten Unflatten Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d MaxPool1d
MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool2d BatchNorm1d
BatchNorm2d LayerNorm GroupNorm InstanceNorm2d RMSNorm Dropout Dropout2d Embedding RNN LSTM GRU
RNNCell LSTMCell GRUCell MultiheadAttention TransformerEncoderLayer TransformerDecoderLayer
TransformerEncoder TransformerDecoder Transformer Upsample PixelShuffle ReLU ReLU6 LeakyReLU
PReLU ELU SELU CELU GELU SiLU Mish Softplus Softsign Hardtanh Hardswish Hardsigmoid Sigmoid Tanh
Softmax LogSoftmax Softmin Threshold GLU MSELoss L1Loss SmoothL1Loss HuberLoss CrossEntropyLoss
NLLLoss BCELoss BCEWithLogitsLoss KLDivLoss CosineEmbeddingLoss MarginRankingLoss
TripletMarginLoss PoissonNLLLoss GaussianNLLLoss""".split()

FUNCTIONAL = """scaled_dot_product_attention one_hot normalize interpolate pad unfold fold embedding
dropout conv1d conv2d conv3d conv_transpose1d conv_transpose2d max_pool1d max_pool2d avg_pool1d
avg_pool2d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool2d batch_norm layer_norm
group_norm instance_norm rms_norm linear bilinear relu relu6 leaky_relu prelu elu selu celu gelu
silu mish softplus softsign hardtanh hardswish hardsigmoid sigmoid tanh softmax log_softmax
softmin threshold glu mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss
binary_cross_entropy binary_cross_entropy_with_logits kl_div cosine_embedding_loss
margin_ranking_loss triplet_margin_loss poisson_nll_loss gaussian_nll_loss""".split()

INIT = """uniform_ normal_ constant_ zeros_ ones_ eye_ xavier_uniform_ xavier_normal_
kaiming_uniform_ kaiming_normal_ orthogonal_ trunc_normal_ calculate_gain""".split()


def _locked(name):
    return (HERE / name).read_text().split()


def test_all_lists_match_the_locked_files():
    assert len(nn.__all__) == len(set(nn.__all__))
    assert sorted(nn.__all__) == sorted(_locked("public_api.txt"))
    assert len(F.__all__) == len(set(F.__all__))
    assert sorted(F.__all__) == sorted(_locked("functional_api.txt"))


def test_every_public_name_exists():
    assert not [n for n in nn.__all__ if not hasattr(nn, n)]
    assert not [n for n in F.__all__ if not hasattr(F, n)]


def test_the_issue_names_are_there():
    assert not [n for n in MODULES if n not in nn.__all__]
    assert not [n for n in FUNCTIONAL if n not in F.__all__]
    assert not [n for n in INIT if not hasattr(init, n)]
    for name in ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                 "vector_to_parameters"]:
        assert hasattr(utils, name), name
    assert hasattr(utils.rnn, "pad_sequence")
    for name in ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader"]:
        assert hasattr(data, name), name


def test_every_module_class_is_a_module():
    for name in nn.__all__:
        obj = getattr(nn, name)
        if isinstance(obj, type) and name not in ("Parameter", "Buffer"):
            assert issubclass(obj, nn.Module), name
