"""Keras 1 argument names accepted as Keras 2.3.1 accepted them (``keras/legacy/interfaces.py``).

One mechanism: ``generate_legacy_interface`` builds a wrapper that renames old keyword
arguments (``output_dim`` -> ``units``, ``init`` -> ``kernel_initializer``, ``nb_filter``,
``border_mode``, ``subsample``, ``dim_ordering='th'`` -> ``data_format='channels_first'``,
...), runs a per-layer preprocessor for the reshaped ones (``Conv2D(32, 3, 3)``,
``input_dim`` / ``input_length`` of recurrent layers, ``samples_per_epoch``, ...) and warns
``Update your `Dense` call to the Keras 2 API: `Dense(10, ...)```. ``install()`` wraps the
constructors (and the generator methods of ``Model``) that Keras 2.3.1 decorated.

Unlike Keras 2.3.1, extra positional arguments are not an error (tf-keras accepts
``Dense(10, "relu")`` and so does tkeras), and ``input_dim`` / ``input_length`` of the
recurrent layers pass without a warning (tf-keras's API).
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._warn import TkerasDeprecationWarning

Preprocessor = Callable[[tuple, dict], Tuple[tuple, dict, list]]
_DIM_ORDERING = {"dim_ordering": {"tf": "channels_last", "th": "channels_first", "default": None}}


def _warn(message: str, stacklevel: int = 4) -> None:
    warnings.warn(message, TkerasDeprecationWarning, stacklevel=stacklevel)


def raise_duplicate_arg_error(old_arg: str, new_arg: str) -> None:
    raise TypeError(f"For the `{new_arg}` argument, the layer received both the legacy keyword "
                    f"argument `{old_arg}` and the Keras 2 keyword argument `{new_arg}`. "
                    "Stick to the latter!")


def _short(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    text = "array" if isinstance(value, np.ndarray) else str(value)
    return text[:10] + "..." if len(text) > 10 else text


def _signature(name: str, args: Sequence[Any], kwargs: Dict[str, Any]) -> str:
    parts = [_short(v) for v in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"`{name}(" + ", ".join(parts) + ")`"


def generate_legacy_interface(allowed_positional_args: Optional[List[str]] = None,
                              conversions: Optional[List[Tuple[str, str]]] = None,
                              preprocessor: Optional[Preprocessor] = None,
                              value_conversions: Optional[Dict[str, Dict[Any, Any]]] = None,
                              object_type: str = "class") -> Callable:
    """A decorator converting Keras 1 arguments of ``__init__`` (or a method) to Keras 2's.

    Args:
        allowed_positional_args: documentation only (tkeras does not restrict them).
        conversions: ``(old_name, new_name)`` keyword renames.
        preprocessor: ``f(args, kwargs) -> (args, kwargs, converted)`` for the rest.
        value_conversions: ``{old_name: {old_value: new_value}}`` applied before renaming.
        object_type: 'class' (named after ``args[0]``'s class) or 'method'.
    """
    del allowed_positional_args
    conversions = list(conversions or [])
    value_conversions = dict(value_conversions or {})

    def legacy_support(func: Callable) -> Callable:
        if getattr(func, "_legacy_wrapped", False):
            return func

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            name = type(args[0]).__name__ if object_type == "class" else func.__name__
            name = "Model" if name == "Functional" else name  # Keras 2's class name
            converted: list = []
            if preprocessor is not None:
                args, kwargs, converted = preprocessor(tuple(args), kwargs)
            for key, table in value_conversions.items():
                if key in kwargs:
                    try:
                        kwargs[key] = table.get(kwargs[key], kwargs[key])
                    except TypeError:  # an unhashable value: not an old spelling
                        pass
            for old_name, new_name in conversions:
                if old_name in kwargs:
                    value = kwargs.pop(old_name)
                    if new_name in kwargs:
                        raise_duplicate_arg_error(old_name, new_name)
                    kwargs[new_name] = value
                    converted.append((new_name, old_name))
            if converted:
                _warn(f"Update your `{name}` call to the Keras 2 API: "
                      f"{_signature(name, args[1:], kwargs)}", stacklevel=3)
            return func(*args, **kwargs)

        wrapper._original_function = func
        wrapper._legacy_wrapped = True
        return wrapper

    return legacy_support


generate_legacy_method_interface = functools.partial(generate_legacy_interface,
                                                     object_type="method")

# ---------------------------------------------------------------------------------------
# Preprocessors (Keras 2.3.1's, one per layer family)


def embedding_kwargs_preprocessor(args, kwargs):
    if "dropout" in kwargs:
        kwargs.pop("dropout")
        _warn("The `dropout` argument is no longer support in `Embedding`. You can apply a "
              "`keras.layers.SpatialDropout1D` layer right after the `Embedding` layer to get "
              "the same behavior.")
    return args, kwargs, []


def _forget_bias(kwargs, converted) -> None:
    if "forget_bias_init" in kwargs:
        value = kwargs.pop("forget_bias_init")
        if value == "one":
            kwargs["unit_forget_bias"] = True
            converted.append(("forget_bias_init", "unit_forget_bias"))
        else:
            _warn("The `forget_bias_init` argument has been ignored. Use "
                  "`unit_forget_bias=True` instead to initialize with ones.")


def recurrent_args_preprocessor(args, kwargs):
    converted: list = []
    _forget_bias(kwargs, converted)
    # input_dim / input_length: Keras 2.3.1 warned, but tf-keras takes them as they are, so
    # the recurrent layers accept them quietly (their constructors build input_shape).
    return args, kwargs, converted


def conv1d_args_preprocessor(args, kwargs):
    converted = []
    if "input_dim" in kwargs:
        length = kwargs.pop("input_length", None)
        kwargs["input_shape"] = (length, kwargs.pop("input_dim"))
        converted.append(("input_shape", "input_dim"))
    return args, kwargs, converted


def _strides_clash(kwargs) -> None:
    if any(k in kwargs for k in ("padding", "strides", "data_format")):
        raise ValueError("It seems that you are using the Keras 2 and you are passing both "
                         "`kernel_size` and `strides` as integer positional arguments. For "
                         "safety reasons, this is disallowed. Pass `strides` as a keyword "
                         "argument instead.")


def conv2d_args_preprocessor(args, kwargs):
    converted = []
    if len(args) > 4:
        raise TypeError("Layer can receive at most 3 positional arguments.")
    if len(args) == 4:
        if isinstance(args[2], int) and isinstance(args[3], int):
            _strides_clash(kwargs)
            args = (args[0], args[1], (args[2], args[3]))
            converted.append(("kernel_size", "nb_row/nb_col"))
    elif len(args) == 3 and isinstance(args[2], int):
        if "nb_col" in kwargs:
            args = (args[0], args[1], (args[2], kwargs.pop("nb_col")))
            converted.append(("kernel_size", "nb_row/nb_col"))
    elif len(args) == 2:
        if "nb_row" in kwargs and "nb_col" in kwargs:
            args = (args[0], args[1], (kwargs.pop("nb_row"), kwargs.pop("nb_col")))
            converted.append(("kernel_size", "nb_row/nb_col"))
    elif len(args) == 1:
        if "nb_row" in kwargs and "nb_col" in kwargs:
            kwargs["kernel_size"] = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
            converted.append(("kernel_size", "nb_row/nb_col"))
    return args, kwargs, converted


def separable_conv2d_args_preprocessor(args, kwargs):
    converted = []
    if "init" in kwargs:
        init = kwargs.pop("init")
        kwargs["depthwise_initializer"] = init
        kwargs["pointwise_initializer"] = init
        converted.append(("init", "depthwise_initializer/pointwise_initializer"))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


def deconv2d_args_preprocessor(args, kwargs):
    converted = []
    if len(args) == 5 and isinstance(args[4], tuple):
        args = args[:-1]
        converted.append(("output_shape", None))
    if "output_shape" in kwargs:
        kwargs.pop("output_shape")
        converted.append(("output_shape", None))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


def conv3d_args_preprocessor(args, kwargs):
    converted = []
    dims = ("kernel_dim1", "kernel_dim2", "kernel_dim3")
    if len(args) > 5:
        raise TypeError("Layer can receive at most 4 positional arguments.")
    if len(args) == 5:
        if all(isinstance(x, int) for x in args[2:5]):
            args = (args[0], args[1], tuple(args[2:5]))
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) == 4 and isinstance(args[3], int):
        if isinstance(args[2], int):
            _strides_clash(kwargs)
        if "kernel_dim3" in kwargs:
            args = (args[0], args[1], (args[2], args[3], kwargs.pop("kernel_dim3")))
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) == 3:
        if all(x in kwargs for x in dims[1:]):
            args = (args[0], args[1], (args[2], kwargs.pop("kernel_dim2"),
                                       kwargs.pop("kernel_dim3")))
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) in (1, 2) and all(x in kwargs for x in dims):
        kernel_size = tuple(kwargs.pop(x) for x in dims)
        if len(args) == 2:
            args = (args[0], args[1], kernel_size)
        else:
            kwargs["kernel_size"] = kernel_size
        converted.append(("kernel_size", "kernel_dim*"))
    return args, kwargs, converted


def batchnorm_args_preprocessor(args, kwargs):
    converted = []
    if len(args) > 1:
        raise TypeError("The `BatchNormalization` layer does not accept positional arguments. "
                        "Use keyword arguments instead.")
    if "mode" in kwargs:
        if kwargs.pop("mode") != 0:
            raise TypeError("The `mode` argument of `BatchNormalization` no longer exists. "
                            "`mode=1` and `mode=2` are no longer supported.")
        converted.append(("mode", None))
    return args, kwargs, converted


def convlstm2d_args_preprocessor(args, kwargs):
    converted: list = []
    _forget_bias(kwargs, converted)
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


def _pads(padding: dict):
    return ((padding.get("top_pad", 0), padding.get("bottom_pad", 0)),
            (padding.get("left_pad", 0), padding.get("right_pad", 0)))


def zeropadding2d_args_preprocessor(args, kwargs):
    keys = {"top_pad", "bottom_pad", "left_pad", "right_pad"}
    message = ("The `padding` argument in the Keras 2 API no longer accepts dict types. You "
               "can now input argument as: `padding=((top_pad, bottom_pad), "
               "(left_pad, right_pad))`.")
    if isinstance(kwargs.get("padding"), dict) and set(kwargs["padding"]) <= keys:
        kwargs["padding"] = _pads(kwargs["padding"])
        _warn(message)
    elif len(args) == 2 and isinstance(args[1], dict) and set(args[1]) <= keys:
        args = (args[0], _pads(args[1]))
        _warn(message)
    return args, kwargs, []


def generator_methods_args_preprocessor(args, kwargs):
    converted = []
    if len(args) < 3 and "samples_per_epoch" in kwargs:
        samples = kwargs.pop("samples_per_epoch")
        generator = args[1] if len(args) > 1 else kwargs.get("generator")
        batch_size = getattr(generator, "batch_size", None)
        kwargs["steps_per_epoch"] = samples // batch_size if batch_size else samples
        converted.append(("samples_per_epoch", "steps_per_epoch"))
    if {"samples_per_epoch", "val_samples", "nb_epoch", "nb_val_samples",
            "nb_worker"} & set(kwargs) or converted:
        _warn("The semantics of the Keras 2 argument `steps_per_epoch` is not the same as the "
              "Keras 1 argument `samples_per_epoch`. `steps_per_epoch` is the number of batches "
              "to draw from the generator at each epoch. Basically steps_per_epoch = "
              "samples_per_epoch/batch_size. Similarly `nb_val_samples`->`validation_steps` "
              "and `val_samples`->`steps` arguments have changed. Update your method calls "
              "accordingly.")
    return args, kwargs, converted


def add_weight_args_preprocessing(args, kwargs):
    """Keras 1's ``add_weight(shape, initializer, name=...)``: a tuple second is the shape."""
    if len(args) > 1 and isinstance(args[1], (tuple, list)):
        kwargs["shape"] = args[1]
        args = (args[0],) + tuple(args[2:])
        if len(args) > 1 and isinstance(args[1], str) and "name" not in kwargs:
            kwargs["name"] = args[1]
            args = (args[0],) + tuple(args[2:])
        elif len(args) > 1 and "initializer" not in kwargs:
            kwargs["initializer"] = args[1]
            args = (args[0],) + tuple(args[2:])
    return args, kwargs, []


# ---------------------------------------------------------------------------------------
# The interfaces (Keras 2.3.1's names)

_W_B = [("W_regularizer", "kernel_regularizer"), ("b_regularizer", "bias_regularizer"),
        ("W_constraint", "kernel_constraint"), ("b_constraint", "bias_constraint"),
        ("bias", "use_bias")]
_CONV = [("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding"),
         ("dim_ordering", "data_format"), ("init", "kernel_initializer")] + _W_B

legacy_dense_support = generate_legacy_interface(
    ["units"], [("output_dim", "units"), ("init", "kernel_initializer")] + _W_B)
legacy_dropout_support = generate_legacy_interface(["rate", "noise_shape", "seed"], [("p", "rate")])
legacy_embedding_support = generate_legacy_interface(
    ["input_dim", "output_dim"],
    [("init", "embeddings_initializer"), ("W_regularizer", "embeddings_regularizer"),
     ("W_constraint", "embeddings_constraint")], preprocessor=embedding_kwargs_preprocessor)
legacy_pooling1d_support = generate_legacy_interface(
    ["pool_size", "strides", "padding"],
    [("pool_length", "pool_size"), ("stride", "strides"), ("border_mode", "padding")])
legacy_prelu_support = generate_legacy_interface(["alpha_initializer"],
                                                 [("init", "alpha_initializer")])
legacy_gaussiannoise_support = generate_legacy_interface(["stddev"], [("sigma", "stddev")])
legacy_recurrent_support = generate_legacy_interface(
    ["units"],
    [("output_dim", "units"), ("init", "kernel_initializer"),
     ("inner_init", "recurrent_initializer"), ("inner_activation", "recurrent_activation"),
     ("W_regularizer", "kernel_regularizer"), ("b_regularizer", "bias_regularizer"),
     ("U_regularizer", "recurrent_regularizer"), ("dropout_W", "dropout"),
     ("dropout_U", "recurrent_dropout"), ("consume_less", "implementation")],
    value_conversions={"consume_less": {"cpu": 0, "mem": 1, "gpu": 2}},
    preprocessor=recurrent_args_preprocessor)
legacy_gaussiandropout_support = generate_legacy_interface(["rate"], [("p", "rate")])
_POOL_ND = dict(conversions=[("border_mode", "padding"), ("dim_ordering", "data_format")],
                value_conversions=_DIM_ORDERING)
_POOL_ARGS = ["pool_size", "strides", "padding"]
legacy_pooling2d_support = generate_legacy_interface(_POOL_ARGS, **_POOL_ND)
legacy_pooling3d_support = generate_legacy_interface(_POOL_ARGS, **_POOL_ND)
legacy_global_pooling_support = generate_legacy_interface(
    conversions=[("dim_ordering", "data_format")], value_conversions=_DIM_ORDERING)
legacy_upsampling1d_support = generate_legacy_interface(["size"], [("length", "size")])
_ORDERING = dict(conversions=[("dim_ordering", "data_format")], value_conversions=_DIM_ORDERING)
legacy_upsampling2d_support = generate_legacy_interface(["size"], **_ORDERING)
legacy_upsampling3d_support = generate_legacy_interface(["size"], **_ORDERING)
legacy_conv1d_support = generate_legacy_interface(
    ["filters", "kernel_size"],
    [("nb_filter", "filters"), ("filter_length", "kernel_size"),
     ("subsample_length", "strides"), ("border_mode", "padding"),
     ("init", "kernel_initializer")] + _W_B, preprocessor=conv1d_args_preprocessor)
legacy_conv2d_support = generate_legacy_interface(
    ["filters", "kernel_size"], _CONV, value_conversions=_DIM_ORDERING,
    preprocessor=conv2d_args_preprocessor)
legacy_separable_conv2d_support = generate_legacy_interface(
    ["filters", "kernel_size"],
    [("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding"),
     ("dim_ordering", "data_format"), ("b_regularizer", "bias_regularizer"),
     ("b_constraint", "bias_constraint"), ("bias", "use_bias")],
    value_conversions=_DIM_ORDERING, preprocessor=separable_conv2d_args_preprocessor)
legacy_deconv2d_support = generate_legacy_interface(
    ["filters", "kernel_size"], _CONV, value_conversions=_DIM_ORDERING,
    preprocessor=deconv2d_args_preprocessor)
legacy_conv3d_support = generate_legacy_interface(
    ["filters", "kernel_size"], _CONV, value_conversions=_DIM_ORDERING,
    preprocessor=conv3d_args_preprocessor)
legacy_convlstm2d_support = generate_legacy_interface(
    ["filters", "kernel_size"],
    [("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding"),
     ("dim_ordering", "data_format"), ("init", "kernel_initializer"),
     ("inner_init", "recurrent_initializer"), ("W_regularizer", "kernel_regularizer"),
     ("U_regularizer", "recurrent_regularizer"), ("b_regularizer", "bias_regularizer"),
     ("inner_activation", "recurrent_activation"), ("dropout_W", "dropout"),
     ("dropout_U", "recurrent_dropout"), ("bias", "use_bias")],
    value_conversions=_DIM_ORDERING, preprocessor=convlstm2d_args_preprocessor)
legacy_batchnorm_support = generate_legacy_interface(
    [], [("beta_init", "beta_initializer"), ("gamma_init", "gamma_initializer")],
    preprocessor=batchnorm_args_preprocessor)
legacy_zeropadding2d_support = generate_legacy_interface(
    ["padding"], preprocessor=zeropadding2d_args_preprocessor, **_ORDERING)
legacy_zeropadding3d_support = generate_legacy_interface(["padding"], **_ORDERING)
legacy_cropping2d_support = generate_legacy_interface(["cropping"], **_ORDERING)
legacy_cropping3d_support = generate_legacy_interface(["cropping"], **_ORDERING)
legacy_spatialdropout1d_support = generate_legacy_interface(["rate"], [("p", "rate")])
legacy_spatialdropoutNd_support = generate_legacy_interface(
    ["rate"], [("p", "rate"), ("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)
legacy_generator_methods_support = generate_legacy_method_interface(
    ["generator", "steps_per_epoch", "epochs"],
    [("samples_per_epoch", "steps_per_epoch"), ("val_samples", "steps"),
     ("nb_epoch", "epochs"), ("nb_val_samples", "validation_steps"), ("nb_worker", "workers"),
     ("pickle_safe", "use_multiprocessing"), ("max_q_size", "max_queue_size")],
    preprocessor=generator_methods_args_preprocessor)
legacy_model_constructor_support = generate_legacy_interface(
    None, [("input", "inputs"), ("output", "outputs")])
legacy_input_support = generate_legacy_interface(None, [("input_dtype", "dtype")])
legacy_add_weight_support = generate_legacy_interface(
    ["name", "shape"], preprocessor=add_weight_args_preprocessing)

#: tkeras layer class name -> the interface Keras 2.3.1 put on its constructor.
LAYER_INTERFACES: Dict[str, Callable] = {
    "Dense": legacy_dense_support, "Dropout": legacy_dropout_support,
    "Embedding": legacy_embedding_support, "PReLU": legacy_prelu_support,
    "GaussianNoise": legacy_gaussiannoise_support,
    "GaussianDropout": legacy_gaussiandropout_support,
    "SimpleRNN": legacy_recurrent_support, "GRU": legacy_recurrent_support,
    "LSTM": legacy_recurrent_support,
    "Conv1D": legacy_conv1d_support, "LocallyConnected1D": legacy_conv1d_support,
    "Conv2D": legacy_conv2d_support, "LocallyConnected2D": legacy_conv2d_support,
    "SeparableConv2D": legacy_separable_conv2d_support,
    "Conv2DTranspose": legacy_deconv2d_support, "Conv3D": legacy_conv3d_support,
    "ConvLSTM2D": legacy_convlstm2d_support, "BatchNormalization": legacy_batchnorm_support,
    "MaxPooling1D": legacy_pooling1d_support, "AveragePooling1D": legacy_pooling1d_support,
    "MaxPooling2D": legacy_pooling2d_support, "AveragePooling2D": legacy_pooling2d_support,
    "MaxPooling3D": legacy_pooling3d_support, "AveragePooling3D": legacy_pooling3d_support,
    "UpSampling1D": legacy_upsampling1d_support, "UpSampling2D": legacy_upsampling2d_support,
    "UpSampling3D": legacy_upsampling3d_support,
    "ZeroPadding2D": legacy_zeropadding2d_support, "ZeroPadding3D": legacy_zeropadding3d_support,
    "Cropping2D": legacy_cropping2d_support, "Cropping3D": legacy_cropping3d_support,
    "SpatialDropout1D": legacy_spatialdropout1d_support,
    "SpatialDropout2D": legacy_spatialdropoutNd_support,
    "SpatialDropout3D": legacy_spatialdropoutNd_support,
    **{f"Global{kind}Pooling{n}D": legacy_global_pooling_support
       for kind in ("Max", "Average") for n in (1, 2, 3)},
}


def install() -> None:
    """Wraps the constructors and methods Keras 2.3.1 decorated (once; idempotent)."""
    from .. import layers
    from ..engine.base_layer import Layer
    from ..engine.functional import Functional
    from ..engine.training import Model
    for name, interface in LAYER_INTERFACES.items():
        cls = getattr(layers, name)
        cls.__init__ = interface(cls.__init__)
    for method in ("fit_generator", "evaluate_generator", "predict_generator"):
        if hasattr(Model, method):
            setattr(Model, method, legacy_generator_methods_support(getattr(Model, method)))
    for cls in (Model, Functional):
        if "__init__" in cls.__dict__:
            cls.__init__ = legacy_model_constructor_support(cls.__dict__["__init__"])
    Layer.add_weight = legacy_add_weight_support(Layer.add_weight)
