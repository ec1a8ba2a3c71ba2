"""K.placeholder / K.function / K.gradients, and the Keras 2 recipes built on them
(feature visualisation, style transfer with L-BFGS, DeepDream, stateful updates).

Expected values come from the same computation written by hand in torch (the layer
weights read with get_weights, convolutions with torch.nn.functional) or numpy.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tkeras
from tkeras import Input, Model, layers
from tkeras import backend as K


def conv_model(seed=0):
    tkeras.utils.set_random_seed(seed)
    inp = Input(shape=(8, 8, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    out = layers.Conv2D(5, 3, padding="same", name="c2")(h)
    return Model(inp, out)


def torch_convs(model, x):
    """The model's two convolutions written by hand: (conv1 relu output, conv2 output)."""
    k1, b1 = [torch.from_numpy(w) for w in model.get_layer("c1").get_weights()]
    k2, b2 = [torch.from_numpy(w) for w in model.get_layer("c2").get_weights()]
    xt = x.permute(0, 3, 1, 2)
    h = F.relu(F.conv2d(xt, k1.permute(3, 2, 0, 1), b1, padding=1))
    out = F.conv2d(h, k2.permute(3, 2, 0, 1), b2, padding=1)
    return h.permute(0, 2, 3, 1), out.permute(0, 2, 3, 1)


# ------------------------------------------------------------------ placeholders

def test_placeholder_shape_dtype_and_predicates():
    x = K.placeholder(shape=(None, 4), name="ph")
    assert x.shape == (None, 4) and x.dtype == "float32"
    y = K.placeholder(ndim=3, dtype="int32")
    assert y.shape == (None, None, None) and y.dtype == "int32"
    assert K.is_placeholder(x) and K.is_keras_tensor(x) and K.is_tensor(x) and K.is_symbolic(x)
    z = x * 2
    assert not K.is_placeholder(z) and K.is_keras_tensor(z) and K.is_symbolic(z)
    v = K.variable(np.ones(3))
    assert K.is_variable(v) and not K.is_variable(torch.ones(3)) and not K.is_variable(x)
    assert not K.is_symbolic(v) and not K.is_placeholder(v)
    assert K.is_variable(conv_model().weights[0])


def test_placeholder_needs_shape_or_ndim():
    with pytest.raises(ValueError, match="needs a `shape`"):
        K.placeholder()


def test_function_on_placeholders_returns_numpy():
    a = K.placeholder(shape=(None, 3))
    b = K.placeholder(shape=(None, 3))
    f = K.function([a, b], [a * b + 1.0, K.sum(a, axis=1)])
    av = np.arange(6, dtype=np.float32).reshape(2, 3)
    bv = np.full((2, 3), 2.0, dtype=np.float32)
    out = f([av, bv])
    assert isinstance(out, list) and all(isinstance(o, np.ndarray) for o in out)
    np.testing.assert_allclose(out[0], av * bv + 1.0)
    np.testing.assert_allclose(out[1], av.sum(axis=1))
    single = K.function([a], K.mean(a))
    np.testing.assert_allclose(single([av]), av.mean())


def test_function_errors_name_the_problem():
    a = K.placeholder(shape=(None, 3), name="a_in")
    b = K.placeholder(shape=(None, 3), name="b_in")
    with pytest.raises(ValueError, match="depend on the input 'b_in', which is not among its `inputs`"):
        K.function([a], [a + b])
    f = K.function([a], [a + 1])
    with pytest.raises(ValueError, match="expects 1 input value"):
        f([np.ones((1, 3)), np.ones((1, 3))])
    with pytest.raises(TypeError, match="should be a list or tuple"):
        K.function(a, [a])


def test_function_feeds_an_intermediate_tensor():
    model = conv_model()
    h = model.get_layer("c1").output
    f = K.function([h], [model.output])
    hv = np.random.RandomState(0).rand(2, 8, 8, 4).astype("float32")
    k2, b2 = [torch.from_numpy(w) for w in model.get_layer("c2").get_weights()]
    expected = F.conv2d(torch.from_numpy(hv).permute(0, 3, 1, 2), k2.permute(3, 2, 0, 1), b2,
                        padding=1).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(f([hv])[0], expected, rtol=1e-5, atol=1e-6)


def test_learning_phase_input_switches_dropout():
    tkeras.utils.set_random_seed(1)
    inp = Input(shape=(200,))
    out = layers.Dropout(0.5)(inp)
    model = Model(inp, out)
    f = K.function([model.input, K.learning_phase()], [model.output])
    x = np.ones((4, 200), dtype="float32")
    np.testing.assert_array_equal(f([x, 0])[0], x)
    train = f([x, 1])[0]
    assert set(np.unique(train)) == {0.0, 2.0}


def test_without_a_fed_phase_layers_follow_set_learning_phase_else_their_own_flag():
    tkeras.utils.set_random_seed(1)
    inp = Input(shape=(200,))
    out = layers.Dropout(0.5)(inp)
    model = Model(inp, out)
    f = K.function([model.input], [model.output])
    x = np.ones((4, 200), dtype="float32")
    np.testing.assert_array_equal(f([x])[0], x)  # the default: inference
    model.layers[-1].train()  # the layer's own flag, with no phase set
    assert set(np.unique(f([x])[0])) == {0.0, 2.0}
    model.layers[-1].eval()
    K.set_learning_phase(1)
    try:
        assert set(np.unique(f([x])[0])) == {0.0, 2.0}
    finally:
        K.clear_session()
    np.testing.assert_array_equal(f([x])[0], x)


def test_a_call_leaves_the_call_context_as_it_found_it():
    from tkeras.engine.call_context import call_context
    model = conv_model()
    f = K.function([model.input], [model.output])
    ctx = call_context()
    before = (ctx.training, ctx.depth, ctx.losses)
    f([np.zeros((1, 8, 8, 3), "float32")])
    assert (ctx.training, ctx.depth, ctx.losses) == before
    with pytest.raises(ValueError):
        f([np.zeros((1, 8, 8, 5), "float32")])  # wrong channel count: the layer's error
    assert (ctx.training, ctx.depth, ctx.losses) == before


# ------------------------------------------------------------------ gradients

def test_gradients_wrt_input_match_torch_autograd():
    model = conv_model()
    loss = K.mean(model.get_layer("c2").output[:, :, :, 1])
    grads = K.gradients(loss, model.input)
    assert isinstance(grads, list) and grads[0].shape == (None, 8, 8, 3)
    f = K.function([model.input], [loss, grads[0]])
    x = np.random.RandomState(2).rand(2, 8, 8, 3).astype("float32")
    loss_v, grad_v = f([x])
    xt = torch.from_numpy(x).requires_grad_()
    ref = torch_convs(model, xt)[1][:, :, :, 1].mean()
    ref.backward()
    np.testing.assert_allclose(loss_v, ref.item(), rtol=1e-5)
    np.testing.assert_allclose(grad_v, xt.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_gradients_wrt_weights_and_layer_output():
    model = conv_model()
    h = model.get_layer("c1").output
    loss = K.sum(K.square(model.output))
    kernel = model.get_layer("c2").weights[0]
    g_kernel, g_h = K.gradients(loss, [kernel, h])
    assert g_kernel.shape == (3, 3, 4, 5) and g_h.shape == (None, 8, 8, 4)
    f = K.function([model.input], [g_kernel, g_h])
    x = np.random.RandomState(3).rand(1, 8, 8, 3).astype("float32")
    gk, gh = f([x])
    k1, b1 = [torch.from_numpy(w) for w in model.get_layer("c1").get_weights()]
    k2 = torch.from_numpy(model.get_layer("c2").get_weights()[0]).requires_grad_()
    b2 = torch.from_numpy(model.get_layer("c2").get_weights()[1])
    ht = F.relu(F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), k1.permute(3, 2, 0, 1), b1,
                         padding=1)).requires_grad_()
    out = F.conv2d(ht, k2.permute(3, 2, 0, 1), b2, padding=1)
    (out ** 2).sum().backward()
    np.testing.assert_allclose(gk, k2.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gh, ht.grad.permute(0, 2, 3, 1).numpy(), rtol=1e-4, atol=1e-6)


def test_gradients_of_a_frozen_variable_and_stop_gradient():
    x = K.placeholder(shape=(None, 3))
    w = K.variable(np.array([1.0, 2.0, 3.0]))
    loss = K.sum(x * w) + K.sum(K.stop_gradient(x) * 5.0)
    gx, gw = K.gradients(loss, [x, w])
    f = K.function([x], [gx, gw])
    xv = np.array([[1.0, 1.0, 2.0], [0.5, 0.0, 1.0]], dtype="float32")
    gxv, gwv = f([xv])
    np.testing.assert_allclose(gxv, np.tile([1.0, 2.0, 3.0], (2, 1)))  # stop_gradient: no 5s
    np.testing.assert_allclose(gwv, xv.sum(axis=0))
    assert not w.requires_grad  # restored after the call


def test_two_gradient_nodes_of_one_loss_in_one_function_and_repeated_calls():
    x = K.placeholder(shape=(None, 3))
    loss = K.sum(K.square(x) * 3.0)
    g1 = K.gradients(loss, x)[0]
    g2 = K.gradients(loss, [x])[0] * 2.0  # a second backward through the same graph
    f = K.function([x], [g1, g2])
    xv = np.array([[1.0, -2.0, 0.5]], dtype="float32")
    for _ in range(2):
        a, b = f([xv])
        np.testing.assert_allclose(a, 6.0 * xv, rtol=1e-6)
        np.testing.assert_allclose(b, 12.0 * xv, rtol=1e-6)


def test_a_graph_holding_an_eager_tensor_with_history_differentiates_on_every_call():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    scaled = w * 2.0  # made outside the graph, with autograd history of its own
    x = K.placeholder(shape=(None, 3))
    loss = K.sum(K.square(x * scaled))
    f = K.function([x], K.gradients(loss, [x, w]))
    xv = np.ones((1, 3), dtype="float32")
    for _ in range(3):  # each backward runs through ``scaled``'s history: it must stay
        gx, gw = f([xv])
        np.testing.assert_allclose(gx, [[8.0, 32.0, 72.0]], rtol=1e-6)
        np.testing.assert_allclose(gw, [8.0, 16.0, 24.0], rtol=1e-6)
    (scaled ** 2).sum().backward()  # the user's own backward through it still works
    np.testing.assert_allclose(w.grad.numpy(), [8.0, 16.0, 24.0])


# ------------------------------------------------------------------ target recipes

def test_filter_visualisation_by_gradient_ascent():
    model = conv_model(seed=4)
    layer_output = model.get_layer("c2").output
    loss = K.mean(layer_output[:, :, :, 2])
    grads = K.gradients(loss, model.input)[0]
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([model.input], [loss, grads])
    img = np.random.RandomState(5).rand(1, 8, 8, 3).astype("float32") * 0.2 + 0.4
    first, g = iterate([img])
    xt = torch.from_numpy(img).requires_grad_()
    torch_convs(model, xt)[1][:, :, :, 2].mean().backward()
    ref = xt.grad / (torch.sqrt(torch.mean(xt.grad ** 2)) + 1e-5)
    np.testing.assert_allclose(g, ref.numpy(), rtol=1e-4, atol=1e-5)
    values = [first]
    for _ in range(10):
        loss_value, grads_value = iterate([img])
        img = img + grads_value * 0.05
        values.append(loss_value)
    assert values[-1] > values[0] + 0.05
    assert all(b >= a for a, b in zip(values, values[1:]))


def gram_matrix(x):
    features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
    return K.dot(features, K.transpose(features))


def test_style_transfer_with_lbfgs_driven_by_a_k_function():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    tkeras.utils.set_random_seed(6)
    rows = cols = 8
    rng = np.random.RandomState(6)
    base_np = rng.rand(1, rows, cols, 3).astype("float32")
    style_np = rng.rand(1, rows, cols, 3).astype("float32")
    base_image = K.variable(base_np)
    style_image = K.variable(style_np)
    combination_image = K.placeholder((1, rows, cols, 3))
    input_tensor = K.concatenate([base_image, style_image, combination_image], axis=0)
    conv = layers.Conv2D(4, 3, padding="same", activation="relu", name="features")
    feats = conv(input_tensor)
    content_loss = K.sum(K.square(feats[2, :, :, :] - feats[0, :, :, :]))
    s, c = gram_matrix(feats[1, :, :, :]), gram_matrix(feats[2, :, :, :])
    style_loss = K.sum(K.square(s - c)) / (4.0 * (4 ** 2) * ((rows * cols) ** 2))
    a = K.square(combination_image[:, :rows - 1, :cols - 1, :] - combination_image[:, 1:, :cols - 1, :])
    b = K.square(combination_image[:, :rows - 1, :cols - 1, :] - combination_image[:, :rows - 1, 1:, :])
    tv_loss = K.sum(K.pow(a + b, 1.25))
    loss = 0.025 * content_loss + 1.0 * style_loss + 1.0 * tv_loss
    grads = K.gradients(loss, combination_image)
    f_outputs = K.function([combination_image], [loss] + grads)

    def hand_written(x_flat):
        kernel, bias = [torch.from_numpy(w) for w in conv.get_weights()]
        comb = torch.from_numpy(x_flat.reshape(1, rows, cols, 3)).requires_grad_()
        inp = torch.cat([torch.from_numpy(base_np), torch.from_numpy(style_np), comb], 0)
        fe = F.relu(F.conv2d(inp.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias,
                             padding=1)).permute(0, 2, 3, 1)

        def gram(t):
            flat = t.permute(2, 0, 1).reshape(t.shape[2], -1)
            return flat @ flat.T
        cl = ((fe[2] - fe[0]) ** 2).sum()
        sl = ((gram(fe[1]) - gram(fe[2])) ** 2).sum() / (4.0 * 16 * (rows * cols) ** 2)
        da = (comb[:, :-1, :-1, :] - comb[:, 1:, :-1, :]) ** 2
        db = (comb[:, :-1, :-1, :] - comb[:, :-1, 1:, :]) ** 2
        tv = ((da + db) ** 1.25).sum()
        total = 0.025 * cl + sl + tv
        total.backward()
        return total.item(), comb.grad.numpy().ravel()

    def loss_fn(x):
        return float(f_outputs([x.reshape((1, rows, cols, 3)).astype("float32")])[0])

    def grad_fn(x):
        out = f_outputs([x.reshape((1, rows, cols, 3)).astype("float32")])
        return np.asarray(out[1], dtype="float64").ravel()

    x0 = rng.rand(1, rows, cols, 3).astype("float32").ravel()
    ref_loss, ref_grad = hand_written(x0)
    np.testing.assert_allclose(loss_fn(x0), ref_loss, rtol=1e-5)
    np.testing.assert_allclose(grad_fn(x0), ref_grad, rtol=1e-4, atol=1e-6)
    x, min_val, _ = scipy_optimize.fmin_l_bfgs_b(loss_fn, x0.astype("float64"), fprime=grad_fn,
                                                 maxfun=20)
    assert min_val < 0.5 * loss_fn(x0)


def test_deepdream_loss_over_several_layers():
    tkeras.utils.set_random_seed(7)
    dream = Input(shape=(10, 10, 3))
    h1 = layers.Conv2D(4, 3, activation="relu", name="mixed1")(dream)
    h2 = layers.Conv2D(4, 3, activation="relu", name="mixed2")(h1)
    model = Model(dream, h2)
    settings = {"mixed1": 0.5, "mixed2": 1.5}
    loss = K.variable(0.0)
    for name, coeff in settings.items():
        x = model.get_layer(name).output
        scaling = K.prod(K.cast(K.shape(x)[1:], "float32"))
        loss = loss + coeff * K.sum(K.square(x[:, 2:-2, 2:-2, :])) / scaling
    grads = K.gradients(loss, dream)[0]
    grads /= K.maximum(K.mean(K.abs(grads)), 1e-7)
    fetch = K.function([dream], [loss, grads])
    img = np.random.RandomState(8).rand(1, 10, 10, 3).astype("float32")
    # hand-written torch
    (k1, b1), (k2, b2) = [[torch.from_numpy(w) for w in model.get_layer(n).get_weights()]
                          for n in ("mixed1", "mixed2")]
    xt = torch.from_numpy(img).requires_grad_()
    a1 = F.relu(F.conv2d(xt.permute(0, 3, 1, 2), k1.permute(3, 2, 0, 1), b1)).permute(0, 2, 3, 1)
    a2 = F.relu(F.conv2d(a1.permute(0, 3, 1, 2), k2.permute(3, 2, 0, 1), b2)).permute(0, 2, 3, 1)
    ref = 0.5 * (a1[:, 2:-2, 2:-2] ** 2).sum() / (8 * 8 * 4) + \
        1.5 * (a2[:, 2:-2, 2:-2] ** 2).sum() / (6 * 6 * 4)
    ref.backward()
    loss_v, grad_v = fetch([img])
    np.testing.assert_allclose(loss_v, ref.item(), rtol=1e-5)
    ref_g = xt.grad / torch.clamp(xt.grad.abs().mean(), min=1e-7)
    np.testing.assert_allclose(grad_v, ref_g.numpy(), rtol=1e-4, atol=1e-6)
    for _ in range(5):
        img = img + 0.01 * fetch([img])[1]
    assert fetch([img])[0] > loss_v


def test_stateful_function_with_updates():
    x = K.placeholder(shape=(None, 2))
    total = K.variable(np.zeros(2))
    count = K.variable(0.0)
    last_mean = K.variable(np.zeros(2))
    n_rows = K.sum(K.ones_like(x[:, 0]))
    before = total + K.sum(x, axis=0) * 0.0   # the value of `total` when outputs are computed
    f = K.function([x], [before, K.sum(x, axis=0)],
                   updates=[K.update_add(count, n_rows),
                            (total, total + K.sum(x, axis=0)),
                            (last_mean, K.mean(x, axis=0))])
    batches = [np.array([[1.0, 2.0]], "float32"), np.array([[3.0, 4.0], [5.0, 6.0]], "float32"),
               np.array([[-1.0, 0.5]], "float32")]
    seen = np.zeros(2, "float32")
    for batch in batches:
        out_before, out_sum = f([batch])
        np.testing.assert_allclose(out_before, seen)
        np.testing.assert_allclose(out_sum, batch.sum(axis=0))
        seen = seen + batch.sum(axis=0)
        np.testing.assert_allclose(K.get_value(total), seen)
        np.testing.assert_allclose(K.get_value(last_mean), batch.mean(axis=0))
    assert K.get_value(count) == 4.0


def test_updates_run_in_order_after_the_outputs():
    x = K.placeholder(shape=(None,))
    v = K.variable(1.0)
    f = K.function([x], [v + K.sum(x)], updates=[K.update(v, K.sum(x) * 2.0),
                                                 K.update_add(v, K.sum(x))])
    out = f([np.array([1.0, 2.0], "float32")])
    np.testing.assert_allclose(out[0], 4.0)             # 1 + 3, before the updates
    np.testing.assert_allclose(K.get_value(v), 9.0)     # v = 6, then v += 3


def test_update_pairs_with_learning_rule():
    """A hand-rolled SGD step as a stateful K.function (Keras 2 optimizers' get_updates)."""
    x = K.placeholder(shape=(None, 3))
    y = K.placeholder(shape=(None, 1))
    w = K.variable(np.zeros((3, 1)))
    loss = K.mean(K.square(K.dot(x, w) - y))
    g = K.gradients(loss, [w])[0]
    step = K.function([x, y], [loss], updates=[(w, w - 0.5 * g)])
    xv = np.random.RandomState(9).rand(16, 3).astype("float32")
    yv = xv @ np.array([[1.0], [-2.0], [0.5]], "float32")
    losses = [float(step([xv, yv])[0]) for _ in range(50)]
    assert losses[-1] < 0.2 * losses[0]
    # one step by hand from the final weights
    wt = torch.from_numpy(K.get_value(w)).requires_grad_()
    ref = ((torch.from_numpy(xv) @ wt - torch.from_numpy(yv)) ** 2).mean()
    ref.backward()
    expected = (wt - 0.5 * wt.grad).detach().numpy()
    step([xv, yv])
    np.testing.assert_allclose(K.get_value(w), expected, rtol=1e-5, atol=1e-7)


def test_session_run_evaluates_symbolic_tensors():
    x = K.placeholder(shape=(None, 2))
    sess = K.get_session()
    np.testing.assert_allclose(sess.run(x * 3.0, feed_dict={x: np.ones((1, 2))}), [[3.0, 3.0]])
    np.testing.assert_allclose(sess.run([K.sum(x)], {x: np.ones((2, 2))})[0], 4.0)
    K.set_session(sess)
    assert K.get_session() is sess
    other = K.Session()
    K.set_session(other)
    assert K.get_session() is other


def test_in_train_phase_follows_the_fed_learning_phase_and_the_model_call():
    x = Input(shape=(3,))
    y = K.in_train_phase(x * 0.0, x + 1.0)
    f = K.function([x, K.learning_phase()], [y])
    xv = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(f([xv, 1])[0], np.zeros((2, 3)))
    np.testing.assert_array_equal(f([xv, 0])[0], xv + 1.0)
    model = Model(x, y)
    np.testing.assert_array_equal(model.predict(xv, verbose=0), xv + 1.0)
    np.testing.assert_array_equal(K.eval(model(torch.from_numpy(xv), training=True)), 0.0)
