"""K.rnn against a hand-written loop, the CTC functions against brute-force enumeration of
alignments, and Keras 2.3.1's complete backend namespace."""
import itertools
import math

import numpy as np
import pytest
import torch

from tkeras import backend as K

RNG = np.random.RandomState(0)


# ------------------------------------------------------------------ rnn

def np_rnn(x, h0, w, mask=None, backwards=False, const=0.0):
    """h_t = tanh(x_t @ w + h_{t-1} + const); masked steps keep h and repeat the output."""
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    h, prev_out, outs = h0.copy(), np.zeros_like(h0), []
    for t in steps:
        new = np.tanh(x[:, t] @ w + h + const)
        if mask is not None:
            m = mask[:, t][:, None]
            new_out = np.where(m, new, prev_out)
            h = np.where(m, new, h)
        else:
            new_out = new
            h = new
        outs.append(new_out)
        prev_out = new_out
    return outs[-1], np.stack(outs, 1), h


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("unroll", [False, True])
def test_rnn_matches_a_hand_written_loop(backwards, masked, unroll):
    x = RNG.randn(3, 5, 2).astype("float32")
    h0 = RNG.randn(3, 4).astype("float32")
    w = RNG.randn(2, 4).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [0, 1, 1, 1, 1]], bool) if masked else None
    wt = torch.from_numpy(w)

    def step(inputs, states):
        new = torch.tanh(inputs @ wt + states[0] + states[1])
        return new, [new]

    last, outs, states = K.rnn(step, x, [h0], go_backwards=backwards, mask=mask,
                               constants=[np.float32(0.5) * np.ones((3, 4), "float32")],
                               unroll=unroll, input_length=5)
    e_last, e_outs, e_h = np_rnn(x, h0, w, mask, backwards, const=0.5)
    np.testing.assert_allclose(K.eval(last), e_last, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(K.eval(outs), e_outs, rtol=1e-5, atol=1e-6)
    assert isinstance(states, list) and len(states) == 1
    np.testing.assert_allclose(K.eval(states[0]), e_h, rtol=1e-5, atol=1e-6)


def test_rnn_errors():
    with pytest.raises(ValueError, match="rank >= 3"):
        K.rnn(lambda x, s: (x, s), np.ones((2, 3), "float32"), [])
    with pytest.raises(ValueError, match="needs at least one state"):
        K.rnn(lambda x, s: (x, s), np.ones((2, 3, 1), "float32"), [], mask=np.ones((2, 3)))


# ------------------------------------------------------------------ ctc

def normalised(p):
    """What CTC sees: softmax(log(p + eps)) = (p + eps) / sum(p + eps)."""
    q = p.astype(np.float64) + K.epsilon()
    return q / q.sum(-1, keepdims=True)


def collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def labelling_probs(p, length):
    """{labelling: probability} by enumerating every alignment of the first `length` frames."""
    blank = p.shape[-1] - 1
    probs = {}
    for path in itertools.product(range(p.shape[-1]), repeat=length):
        prob = math.prod(p[t, c] for t, c in enumerate(path))
        key = collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + prob
    return probs


def softmax_outputs(shape):
    logits = RNG.randn(*shape) * 2.0
    e = np.exp(logits)
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def test_ctc_batch_cost_matches_brute_force():
    y_pred = softmax_outputs((3, 5, 4))  # blank = 3
    labels = np.array([[0, 1, 0], [2, 2, 0], [1, 0, 0]], "int32")
    label_length = np.array([[3], [2], [1]])
    input_length = np.array([[5], [5], [4]])
    loss = K.eval(K.ctc_batch_cost(labels, y_pred, input_length, label_length))
    assert loss.shape == (3, 1)
    for b in range(3):
        probs = labelling_probs(normalised(y_pred[b]), int(input_length[b, 0]))
        target = tuple(labels[b, :label_length[b, 0]])
        assert loss[b, 0] == pytest.approx(-math.log(probs[target]), rel=1e-4)
    sparse = K.ctc_label_dense_to_sparse(labels, label_length[:, 0])
    assert sparse.is_sparse
    np.testing.assert_array_equal(sparse.indices().t().numpy(),
                                  [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
    np.testing.assert_array_equal(sparse.values().numpy(), [0, 1, 0, 2, 2, 1])
    np.testing.assert_allclose(K.eval(K.ctc_batch_cost(sparse, y_pred, input_length, label_length)),
                               loss, rtol=1e-6)


def test_ctc_greedy_decode():
    y_pred = softmax_outputs((2, 6, 4))
    lengths = np.array([6, 4])
    decoded, log_prob = K.ctc_decode(y_pred, lengths)
    assert isinstance(decoded, list) and len(decoded) == 1
    expected = [collapse(np.argmax(y_pred[b, :n], -1), 3) for b, n in enumerate(lengths)]
    width = max(len(e) for e in expected)
    dense = np.full((2, width), -1)
    for b, e in enumerate(expected):
        dense[b, :len(e)] = e
    np.testing.assert_array_equal(K.eval(decoded[0]), dense)
    neg = [-np.log(y_pred[b, :n] + K.epsilon()).max(-1).sum() * -1 for b, n in enumerate(lengths)]
    np.testing.assert_allclose(K.eval(log_prob)[:, 0], [-v for v in neg], rtol=1e-5)


def test_ctc_beam_search_decode_finds_the_most_probable_labellings():
    y_pred = softmax_outputs((2, 4, 3))
    lengths = np.array([4, 3])
    decoded, log_prob = K.ctc_decode(y_pred, lengths, greedy=False, beam_width=50, top_paths=3)
    assert len(decoded) == 3 and K.int_shape(log_prob) == (2, 3)
    for b, n in enumerate(lengths):
        ranked = sorted(labelling_probs(normalised(y_pred[b]), n).items(), key=lambda kv: -kv[1])
        for k in range(3):
            labels, prob = ranked[k]
            row = K.eval(decoded[k])[b]
            assert tuple(int(c) for c in row if c != -1) == labels
            assert K.eval(log_prob)[b, k] == pytest.approx(math.log(prob), rel=1e-4)
    with pytest.raises(ValueError, match="top_paths"):
        K.ctc_decode(y_pred, lengths, greedy=False, beam_width=2, top_paths=3)


def test_ctc_on_symbolic_tensors():
    y_pred = K.placeholder(shape=(None, 5, 4))
    labels = K.placeholder(shape=(None, 3), dtype="int32")
    il, ll = K.placeholder(shape=(None, 1), dtype="int32"), K.placeholder(shape=(None, 1), dtype="int32")
    cost = K.ctc_batch_cost(labels, y_pred, il, ll)
    assert cost.shape == (None, 1)
    p = softmax_outputs((2, 5, 4))
    lab = np.array([[0, 1, 0], [2, 0, 0]], "int32")
    out = K.function([labels, y_pred, il, ll], [cost])([lab, p, np.array([[5], [5]]),
                                                        np.array([[3], [1]])])[0]
    np.testing.assert_allclose(out, K.eval(K.ctc_batch_cost(lab, p, np.array([[5], [5]]),
                                                            np.array([[3], [1]]))), rtol=1e-6)


# ------------------------------------------------------------------ the namespace

KERAS_231_BACKEND = """
epsilon set_epsilon floatx set_floatx cast_to_floatx image_data_format set_image_data_format
reset_uids get_uid learning_phase set_learning_phase is_sparse to_dense variable is_variable
constant is_keras_tensor is_tensor placeholder is_placeholder shape int_shape ndim dtype eval
zeros ones eye zeros_like ones_like identity random_uniform_variable random_normal_variable
count_params cast update update_add update_sub moving_average_update dot batch_dot transpose
gather max min sum prod cumsum cumprod var std mean any all argmax argmin square abs sqrt exp
log logsumexp round sign pow clip equal not_equal greater greater_equal less less_equal maximum
minimum sin cos normalize_batch_in_training batch_normalization concatenate reshape
permute_dimensions resize_images resize_volumes repeat_elements repeat arange tile flatten
batch_flatten expand_dims squeeze temporal_padding spatial_2d_padding spatial_3d_padding stack
one_hot reverse slice get_value batch_get_value set_value batch_set_value print_tensor function
gradients stop_gradient rnn switch in_train_phase in_test_phase relu elu softmax softplus
softsign categorical_crossentropy sparse_categorical_crossentropy binary_crossentropy sigmoid
hard_sigmoid tanh dropout l2_normalize in_top_k conv1d separable_conv1d conv2d separable_conv2d
conv2d_transpose depthwise_conv2d conv3d conv3d_transpose pool2d pool3d bias_add random_normal
random_uniform random_binomial truncated_normal ctc_label_dense_to_sparse ctc_batch_cost
ctc_decode map_fn foldl foldr local_conv1d local_conv2d backend normalize_data_format
name_scope symbolic eager size control_dependencies pattern_broadcast clear_session
manual_variable_initialization get_session set_session
""".split()


def test_every_public_name_of_keras_231_backend_exists():
    """The names keras/backend/__init__.py of Keras 2.3.1 imports (all backends' branches),
    plus the Keras 1 / 2.2 names the issue lists."""
    assert len(KERAS_231_BACKEND) == 159
    missing = [n for n in KERAS_231_BACKEND + ["image_dim_ordering", "set_image_dim_ordering",
                                               "get_variable_shape"] if not hasattr(K, n)]
    assert missing == []
    assert all(callable(getattr(K, n)) for n in KERAS_231_BACKEND)


def test_graph_era_helpers():
    assert K.backend() == "torch"
    with K.name_scope("block1") as scope:
        assert scope == "block1"
    v = K.variable(1.0)
    with K.control_dependencies([K.update_add(v, 1.0)]):
        assert K.get_value(v) == 2.0  # eager: the dependency has already run
    K.manual_variable_initialization(True)
    K.manual_variable_initialization(False)
    assert K.get_variable_shape(K.variable(np.zeros((2, 3)))) == (2, 3)
    old = K.image_data_format()
    try:
        K.set_image_dim_ordering("th")
        assert K.image_data_format() == "channels_first" and K.image_dim_ordering() == "th"
        K.set_image_dim_ordering("tf")
        assert K.image_data_format() == "channels_last" and K.image_dim_ordering() == "tf"
        with pytest.raises(ValueError, match="Unknown dim_ordering"):
            K.set_image_dim_ordering("channels_first")
    finally:
        K.set_image_data_format(old)
    f = K.symbolic(lambda: 3)
    assert f() == 3 and K.eager(f) is f
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(K.eval(K.pattern_broadcast(x, (False, True))), x)


def test_session_threads_from_a_config_object():
    class Config:
        intra_op_parallelism_threads = 1
        inter_op_parallelism_threads = 0

    before = torch.get_num_threads()
    try:
        sess = K.Session(config=Config())
        assert torch.get_num_threads() == 1
        K.set_session(sess)
        assert K.get_session() is sess
    finally:
        torch.set_num_threads(before)
        K.clear_session()
    assert K.get_session() is not sess  # clear_session forgets the kept session


def test_rnn_and_ctc_decode_on_symbolic_tensors():
    seq = K.placeholder(shape=(None, 5, 3))
    w = torch.ones(3, 2)

    def step(inputs, states):
        out = inputs @ w + states[0]
        return out, [out]

    last, outs, states = K.rnn(step, seq, [K.zeros_like(seq[:, 0, :2])])  # `inputs=` is bound
    assert last.shape == (None, 2) and outs.shape == (None, 5, 2) and states[0].shape == (None, 2)
    value = K.function([seq], [outs])([np.ones((1, 5, 3), "float32")])[0]
    np.testing.assert_allclose(value[0, :, 0], [3.0, 6.0, 9.0, 12.0, 15.0])
    probs = K.placeholder(shape=(None, 6, 4))
    lengths = K.placeholder(shape=(None,), dtype="int32")
    decoded, log_prob = K.ctc_decode(probs, lengths)
    assert decoded[0].shape == (None, None) and log_prob.shape == (None, 1)
    p = softmax_outputs((2, 6, 4))
    out = K.function([probs, lengths], [decoded[0]])([p, np.array([6, 3])])[0]
    np.testing.assert_array_equal(out, K.eval(K.ctc_decode(p, np.array([6, 3]))[0][0]))
