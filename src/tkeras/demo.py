"""``python -m tkeras.demo``: train a small convnet on the handwritten digits shipped
with tkeras, the Keras 2 way.

It shows the progress bar, prints the test accuracy (about 98-99%), saves the weights
(Keras 2's HDF5 layout) and, when matplotlib is installed, a PNG of the loss and
accuracy curves. Everything is written to ``--out`` (default ``tkeras_demo``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, Optional, Sequence

import numpy as np


def build_model():
    """A Keras 2 convnet for 8x8 grey images (the layers of the classic MNIST example)."""
    from tkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from tkeras.models import Sequential

    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def load_digits():
    """The digits as ``(x_train, y_train), (x_test, y_test)``: images scaled to [0, 1]
    with a channel axis, labels one-hot."""
    from tkeras.datasets import digits
    from tkeras.utils import to_categorical

    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train[..., np.newaxis].astype("float32") / 16.0
    x_test = x_test[..., np.newaxis].astype("float32") / 16.0
    return (x_train, to_categorical(y_train, 10)), (x_test, to_categorical(y_test, 10))


def save_weights(model, out_dir: str) -> str:
    """Writes the weights as Keras 2 HDF5 (``model.save_weights``); returns the path."""
    path = os.path.join(out_dir, "digits_convnet.weights.h5")
    model.save_weights(path)
    return path


def plot_history(history: Dict[str, Any], out_dir: str) -> Optional[str]:
    """Writes ``training_curves.png`` (loss and accuracy per epoch) if matplotlib is
    installed; returns its path, or None."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, history[key], label="training")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    fig.suptitle("tkeras convnet on the UCI handwritten digits")
    fig.tight_layout()
    path = os.path.join(out_dir, "training_curves.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(epochs: int = 20, batch_size: int = 32, out_dir: str = "tkeras_demo", verbose: int = 1,
        seed: int = 0) -> Dict[str, Any]:
    """Trains, evaluates and saves the demo model.

    Args:
        epochs: training epochs.
        batch_size: samples per batch.
        out_dir: where the weights and the plot go (created if needed).
        verbose: ``fit``'s verbosity (1: progress bar).
        seed: the random seed (Python, numpy, torch).

    Returns:
        ``{"test_loss", "test_accuracy", "weights_path", "plot_path", "history", "seconds"}``.
    """
    import tkeras

    tkeras.utils.set_random_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = load_digits()
    print(f"UCI handwritten digits: {len(x_train)} training and {len(x_test)} test images "
          "of 8x8 pixels")
    model = build_model()
    model.summary()
    start = time.time()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_split=0.1, verbose=verbose)
    seconds = time.time() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {test_loss:.4f}")
    print(f"Test accuracy: {test_accuracy:.4f}")
    weights_path = save_weights(model, out_dir)
    print(f"Weights saved with model.save_weights (Keras 2 HDF5): {weights_path}")
    plot_path = plot_history(history.history, out_dir)
    if plot_path:
        print(f"Loss and accuracy curves: {plot_path}")
    else:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
    return {"test_loss": test_loss, "test_accuracy": test_accuracy, "weights_path": weights_path,
            "plot_path": plot_path, "history": history.history, "seconds": seconds}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tkeras.demo",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default="tkeras_demo", help="output directory")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(epochs=args.epochs, batch_size=args.batch_size, out_dir=args.out,
                 verbose=args.verbose, seed=args.seed)
    return 0 if result["test_accuracy"] >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
