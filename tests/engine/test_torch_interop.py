"""tkeras models are ordinary torch modules: torch.compile, torch.export, optimizers."""
import torch

from tkeras.layers import Dense, Dropout, Input
from tkeras.models import Model


def _model():
    x = Input(shape=(20,))
    y = Dense(4)(Dropout(0.2)(Dense(16, activation="relu")(x)))
    return Model(x, y)


def test_torch_compile_and_export_give_the_same_outputs():
    model = _model()
    x = torch.randn(3, 20)
    expected = model(x)
    torch.testing.assert_close(torch.compile(model)(x), expected)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), expected)


def test_plain_torch_training_loop_updates_weights():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 20), torch.randn(8, 4)
    before = [w.detach().clone() for w in model.trainable_weights]
    model.train()  # torch's mode: Dropout active
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    assert all(not torch.equal(b, w) for b, w in zip(before, model.trainable_weights))
