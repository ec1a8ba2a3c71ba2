"""Untrusted files never run code under default loading (issue 9, section 1).

A corpus of forged model files (JSON, YAML, ``.h5``, ``.keras``), each carrying a payload
that would create a marker file, truncate a file or end the process if any name in it
resolved outside ``custom_objects``, registered objects and tkeras's own objects. Every one
must fail to load with a ``ValueError`` that names the field, and leave no trace. The cases
that would end the process run in a subprocess. Positive tests check that custom objects,
registered objects, tkeras's objects and the ``safe_mode=False`` opt-in still load.
"""
import copy
import json
import os
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest
import yaml

import tkeras
from tkeras import backend as K
from tkeras.layers import Dense, Input, Lambda, Layer
from tkeras.models import Model, Sequential, load_model, model_from_json, model_from_yaml
from tkeras.saving import SafeModeScope, deserialize_keras_object
from tkeras.utils import custom_object_scope, register_keras_serializable
from tkeras.utils.generic_utils import func_dump

FORMATS = ["json", "yaml", "h5", "keras"]
X = np.random.RandomState(0).standard_normal((2, 3)).astype(np.float32)
HOW_TO_OPT_IN = "safe_mode=False"


def _model(compiled=False):
    inputs = Input(shape=(3,))
    outputs = Lambda(K.tanh, name="lam")(Dense(3, name="d")(inputs))
    model = Model(inputs, outputs)
    if compiled:
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        model.fit(X, X, epochs=1, verbose=0)
    return model


def _layer(config, name):
    return next(entry for entry in config["config"]["layers"] if entry["name"] == name)


def _write(config, fmt, tmp_path, compiled=False, compile_patch=None):
    """A forged file of format ``fmt`` whose architecture is ``config`` (and, for model
    files, whose compile information ``compile_patch`` changes). Returns what the loader
    takes: the text for json / yaml, a path otherwise."""
    if fmt == "json":
        return json.dumps(config)
    if fmt == "yaml":
        return yaml.safe_dump(config)
    path = str(tmp_path / f"forged.{fmt}")
    _model(compiled).save(path)
    if fmt == "h5":
        with h5py.File(path, "r+") as f:
            f.attrs["model_config"] = json.dumps(config)
            if compile_patch:
                training = json.loads(f.attrs["training_config"])
                compile_patch(training, "optimizer_config")
                f.attrs["training_config"] = json.dumps(training)
        return path
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    entry = json.loads(members["config.json"])
    entry.update({"class_name": config["class_name"], "config": config["config"]})
    if compile_patch:
        compile_patch(entry["compile_config"], "optimizer")
    members["config.json"] = json.dumps(entry).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _load(saved, fmt, **kwargs):
    if fmt == "json":
        return model_from_json(saved, **kwargs)
    if fmt == "yaml":
        return model_from_yaml(saved, **kwargs)
    return load_model(saved, **kwargs)


# ------------------------------------------------------------------ payloads

def _popen(marker):
    return {"class_name": "Popen", "config": {"args": f"touch {marker}", "shell": True}}


def _file_handler(victim):
    return {"class_name": "FileHandler", "config": {"filename": str(victim), "mode": "w"}}


def _touching_lambda(marker):
    path = str(marker)
    return func_dump(lambda x: (open(path, "w").close(), x)[1])


def _set_lambda_entry(config, key, value, kind, module):
    type_key = "function_type" if key == "function" else f"{key}_type"
    module_key = "module" if key == "function" else f"{key}_module"
    entry = _layer(config, "lam")["config"]
    entry.update({key: value, type_key: kind, module_key: module})


def _lambda_case(key, payload, kind="function", module=None, arguments=None):
    def mutate(config, marker, victim):
        value = payload(marker, victim)
        _set_lambda_entry(config, key, value, kind, module)
        if arguments is not None:
            _layer(config, "lam")["config"]["arguments"] = arguments(marker, victim)
    return mutate


LAMBDA_CASES = {
    # (mutation, words the error must contain)
    "function-subprocess.Popen": (
        _lambda_case("function", lambda m, v: _popen(m), module="subprocess"),
        ['`function` of Lambda layer "lam"', "nothing is instantiated", HOW_TO_OPT_IN]),
    "output_shape-subprocess.Popen": (
        _lambda_case("output_shape", lambda m, v: _popen(m), module="subprocess"),
        ['`output_shape` of Lambda layer "lam"', "nothing is instantiated", HOW_TO_OPT_IN]),
    "mask-subprocess.Popen": (
        _lambda_case("mask", lambda m, v: _popen(m), module="subprocess"),
        ['`mask` of Lambda layer "lam"', "nothing is instantiated", HOW_TO_OPT_IN]),
    "function-logging.FileHandler": (
        _lambda_case("function", lambda m, v: _file_handler(v), module="logging"),
        ['`function` of Lambda layer "lam"', HOW_TO_OPT_IN]),
    "output_shape-logging.FileHandler": (
        _lambda_case("output_shape", lambda m, v: _file_handler(v), module="logging"),
        ['`output_shape` of Lambda layer "lam"', HOW_TO_OPT_IN]),
    "function-torch.save": (
        _lambda_case("function", lambda m, v: "save", module="torch",
                     arguments=lambda m, v: {"f": str(m)}),
        ["Unknown `function` of Lambda layer \"lam\": 'save' from module 'torch'",
         "never imports or searches a module", HOW_TO_OPT_IN]),
    "function-os.system": (
        _lambda_case("function", lambda m, v: "system", module="os"),
        ["'system' from module 'os'", HOW_TO_OPT_IN]),
    "function-builtins.eval": (
        _lambda_case("function", lambda m, v: "eval", module="builtins"),
        ["'eval' from module 'builtins'", HOW_TO_OPT_IN]),
    "mask-builtins.exec": (
        _lambda_case("mask", lambda m, v: "exec", module="builtins"),
        ["Unknown `mask` of Lambda layer \"lam\": 'exec' from module 'builtins'", HOW_TO_OPT_IN]),
    "output_shape-subprocess.getoutput": (
        _lambda_case("output_shape", lambda m, v: "getoutput", module="subprocess"),
        ["'getoutput' from module 'subprocess'", HOW_TO_OPT_IN]),
    "function-keras3-dict-os.system": (
        _lambda_case("function", lambda m, v: {"class_name": "function", "config": "system"},
                     module="os"),
        ["'system' from module 'os'", HOW_TO_OPT_IN]),
    "function-tkeras-utility-get_file": (  # a tkeras object, but not a tensor function
        _lambda_case("function", lambda m, v: "get_file", module="tkeras.utils.data_utils",
                     arguments=lambda m, v: {"fname": str(m), "origin": f"file://{v}"}),
        ["Unknown `function` of Lambda layer \"lam\": 'get_file'"]),
    "function-bytecode": (
        _lambda_case("function", lambda m, v: _touching_lambda(m), kind="lambda"),
        ["Lambda layer with a Python `lambda`", '`function` of Lambda layer "lam"',
         HOW_TO_OPT_IN]),
    "output_shape-bytecode": (
        _lambda_case("output_shape", lambda m, v: _touching_lambda(m), kind="lambda"),
        ["Lambda layer with a Python `lambda`", HOW_TO_OPT_IN]),
    "mask-bytecode": (
        _lambda_case("mask", lambda m, v: _touching_lambda(m), kind="lambda"),
        ["Lambda layer with a Python `lambda`", HOW_TO_OPT_IN]),
}


def _dense_field(field, payload):
    def mutate(config, marker, victim):
        _layer(config, "d")["config"][field] = payload(marker, victim)
    return mutate


def _elsewhere(payload, module):
    """A payload dict with Keras 3's ``module`` / ``registered_name`` pointing elsewhere."""
    def make(marker, victim):
        value = payload(marker, victim)
        return {**value, "module": module, "registered_name": f"{module}>{value['class_name']}"}
    return make


def _replace_layer(payload):
    def mutate(config, marker, victim):
        entry = _layer(config, "lam")
        entry.update(payload(marker, victim))
    return mutate


OBJECT_CASES = {
    "activation-Popen": (
        _dense_field("activation", _elsewhere(lambda m, v: _popen(m), "subprocess")),
        ["Unknown activation function: 'Popen'"]),
    "activation-name-system": (
        _dense_field("activation", lambda m, v: "system"),
        ["Unknown activation function: 'system'"]),
    "activation-FileHandler": (
        _dense_field("activation", _elsewhere(lambda m, v: _file_handler(v), "logging")),
        ["Unknown activation function: 'FileHandler'"]),
    "initializer-Popen": (
        _dense_field("kernel_initializer", _elsewhere(lambda m, v: _popen(m), "subprocess")),
        ["Unknown initializer: 'Popen'"]),
    "regularizer-FileHandler": (
        _dense_field("kernel_regularizer", _elsewhere(lambda m, v: _file_handler(v), "logging")),
        ["Unknown regularizer: 'FileHandler'"]),
    "constraint-Popen": (
        _dense_field("kernel_constraint", _elsewhere(lambda m, v: _popen(m), "subprocess")),
        ["Unknown constraint: 'Popen'"]),
    "layer-Popen": (
        _replace_layer(_elsewhere(lambda m, v: _popen(m), "subprocess")),
        ["Unknown layer: 'Popen'"]),
    "layer-FileHandler": (
        _replace_layer(_elsewhere(lambda m, v: _file_handler(v), "logging")),
        ["Unknown layer: 'FileHandler'"]),
}

ALL_CASES = {**LAMBDA_CASES, **OBJECT_CASES}


@pytest.fixture
def trap(tmp_path, monkeypatch):
    """The marker path, a victim file with content, and os.system / subprocess.getoutput
    replaced by recorders that create the marker (so a resolved name would show; builtins'
    eval / exec stay: the import machinery needs them, and calling them on a tensor would
    raise a TypeError, not the ValueError the tests expect)."""
    marker = tmp_path / "marker"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")

    def touch(*args, **kwargs):
        marker.write_text("called")

    monkeypatch.setattr(os, "system", touch)
    monkeypatch.setattr(subprocess, "getoutput", touch)
    return marker, victim


def _check_untouched(marker, victim):
    assert not marker.exists(), "the payload ran"
    assert victim.read_text() == "precious", "the payload truncated a file"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_forged_file_is_refused_and_runs_nothing(case, fmt, tmp_path, trap):
    marker, victim = trap
    mutate, words = ALL_CASES[case]
    config = json.loads(_model().to_json())
    mutate(config, marker, victim)
    saved = _write(config, fmt, tmp_path)
    with pytest.raises(ValueError) as info:
        _load(saved, fmt)
    for word in words:
        assert word in str(info.value)
    _check_untouched(marker, victim)


@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_forged_config_is_refused_by_every_config_entry_point(case, tmp_path, trap):
    """from_config, deserialize_keras_object and layers.deserialize read the same scope."""
    marker, victim = trap
    mutate, words = ALL_CASES[case]
    config = json.loads(_model().to_json())
    mutate(config, marker, victim)
    entries = [
        lambda: Model.from_config(copy.deepcopy(config["config"])),
        lambda: deserialize_keras_object(copy.deepcopy(config),
                                         module_objects={"Functional": Model}),
    ]
    for entry in entries:
        with pytest.raises(ValueError) as info:
            entry()
        for word in words:
            assert word in str(info.value)
    lam = _layer(config, "lam")
    if case in LAMBDA_CASES:
        with pytest.raises(ValueError, match="Lambda layer"):
            tkeras.layers.deserialize(copy.deepcopy(lam))
        with pytest.raises(ValueError, match="Lambda layer"):
            Lambda.from_config(copy.deepcopy(lam["config"]))
    _check_untouched(marker, victim)


def _compile_case(key, payload):
    def patch(config, optimizer_key):
        if key == "optimizer":
            config[optimizer_key] = payload
        else:
            config[key] = payload
    return patch


COMPILE_CASES = {
    "optimizer": ("optimizer", "Unknown optimizer: 'Popen'"),
    "loss": ("loss", "Unknown loss: 'Popen'"),
    "metrics": ("metrics", "Unknown metric: 'Popen'"),
}


@pytest.mark.parametrize("fmt", ["h5", "keras"])
@pytest.mark.parametrize("case", sorted(COMPILE_CASES))
def test_forged_compile_information_is_refused(case, fmt, tmp_path, trap):
    marker, victim = trap
    key, words = COMPILE_CASES[case]
    payload = {**_popen(marker), "module": "subprocess", "registered_name": "subprocess>Popen"}
    if key == "metrics":
        payload = [payload]
    config = json.loads(_model().to_json())
    saved = _write(config, fmt, tmp_path, compiled=True,
                   compile_patch=_compile_case(key, payload))
    with pytest.raises(ValueError, match=words):
        load_model(saved)
    _check_untouched(marker, victim)
    assert load_model(saved, compile=False).layers[-1].name == "lam"  # the rest loads


@pytest.mark.parametrize("fmt", FORMATS)
def test_module_and_registered_name_fields_reach_nothing_outside_tkeras(fmt, tmp_path):
    """A layer entry whose ``module`` / ``registered_name`` point elsewhere still means
    tkeras's own class: those fields never make another module's objects reachable."""
    config = json.loads(_model().to_json())
    entry = _layer(config, "d")
    entry.update({"module": "subprocess", "registered_name": "subprocess>Popen"})
    entry["config"]["kernel_initializer"].update(
        {"module": "os", "registered_name": "os>system"})
    model = _load(_write(config, fmt, tmp_path), fmt)
    assert type(model.get_layer("d")) is Dense
    assert type(model.get_layer("d").kernel_initializer).__name__ == "GlorotUniform"


_EXIT_SCRIPT = r"""
import json, sys
sys.path.insert(0, {tests!r})
from tkeras.models import load_model, model_from_json
for kind, saved in json.loads(sys.argv[1]):
    try:
        (model_from_json(saved) if kind == "json" else load_model(saved))
    except ValueError as e:
        print("REFUSED", kind, str(e).replace("\n", " "))
    else:
        print("LOADED", kind)
print("STILL ALIVE")
"""


def test_forged_exit_payloads_are_refused_in_a_subprocess(tmp_path):
    """sys.exit / os._exit payloads: loaded in a child process so that a real exit could
    not end pytest. The child must refuse every file and live to print STILL ALIVE."""
    payloads = [("function", "exit", "sys"), ("output_shape", "exit", "sys"),
                ("mask", "_exit", "os"), ("function", "abort", "os")]
    files = []
    for i, (key, name, module) in enumerate(payloads):
        config = json.loads(_model().to_json())
        _set_lambda_entry(config, key, name, "function", module)
        (tmp_path / str(i)).mkdir()
        files.append(("json", json.dumps(config)))
        files.append(("h5", _write(config, "h5", tmp_path / str(i))))
        files.append(("keras", _write(config, "keras", tmp_path / str(i))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(tkeras.__path__[0])] + os.environ.get("PYTHONPATH", "").split(os.pathsep))}
    script = _EXIT_SCRIPT.format(tests=os.path.dirname(__file__))
    result = subprocess.run([sys.executable, "-c", script, json.dumps(files)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[-1] == "STILL ALIVE", result.stdout
    refused = [line for line in lines if line.startswith("REFUSED")]
    assert len(refused) == len(files), result.stdout
    for line, (key, name, module) in zip(refused, [p for p in payloads for _ in range(3)]):
        assert f"Unknown `{key}` of Lambda layer \"lam\": '{name}' from module '{module}'" \
            in line
        assert HOW_TO_OPT_IN in line


# ------------------------------------------------------------------ what still loads

def _double(x):
    return x * 2.0


def _first_two(shape):
    return (shape[0], 2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_custom_objects_still_load_by_name(fmt, tmp_path):
    config = json.loads(_model().to_json())
    _set_lambda_entry(config, "function", "_double", "function", __name__)
    _set_lambda_entry(config, "output_shape", "_first_two", "function", __name__)
    saved = _write(config, fmt, tmp_path)
    with pytest.raises(ValueError, match=f"'_double' from module '{__name__}'"):
        _load(saved, fmt)
    model = _load(saved, fmt, custom_objects={"_double": _double, "_first_two": _first_two})
    assert model.get_layer("lam").function is _double
    assert model.get_layer("lam")._output_shape is _first_two
    with custom_object_scope({"_double": _double, "_first_two": _first_two}):
        model = _load(saved, fmt)
    assert model.get_layer("lam").function is _double


@register_keras_serializable(package="SecTest")
def sec_square(x):
    return x * x


@register_keras_serializable(package="SecTest")
class SecScale(Layer):
    def __init__(self, factor=3.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@pytest.mark.parametrize("fmt", FORMATS)
def test_registered_objects_load_in_safe_mode(fmt, tmp_path):
    """A registered function in a Lambda is stored by its registered name and a registered
    layer by its class: both load without custom_objects or the opt-in."""
    inputs = Input(shape=(3,))
    model = Model(inputs, Lambda(sec_square, name="sq")(SecScale(2.0, name="s")(inputs)))
    entry = _layer(json.loads(model.to_json()), "sq")["config"]
    assert (entry["function"], entry["function_type"]) == ("SecTest>sec_square", "function")
    if fmt in ("h5", "keras"):
        path = str(tmp_path / f"m.{fmt}")
        model.save(path)
        loaded = load_model(path)
    else:
        loaded = _load(model.to_json() if fmt == "json" else model.to_yaml(), fmt)
    assert loaded.get_layer("sq").function is sec_square
    assert isinstance(loaded.get_layer("s"), SecScale)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), (X * 2.0) ** 2, rtol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_tkeras_public_objects_load_in_safe_mode(fmt, tmp_path):
    inputs = Input(shape=(3,))
    hidden = Dense(3, activation="relu", kernel_regularizer="l2", kernel_constraint="max_norm",
                   kernel_initializer="he_normal", name="d")(inputs)
    outputs = Lambda(K.sum, arguments={"axis": -1, "keepdims": True}, name="s",
                     output_shape=K.int_shape)(hidden)
    model = Model(inputs, outputs)
    if fmt in ("h5", "keras"):
        path = str(tmp_path / f"m.{fmt}")
        model.save(path)
        loaded = load_model(path)
    else:
        loaded = _load(model.to_json() if fmt == "json" else model.to_yaml(), fmt)
    assert loaded.get_layer("s").function is K.sum
    loaded.set_weights(model.get_weights())
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_safe_mode_false_still_loads_lambda_bytecode(fmt, tmp_path):
    inputs = Input(shape=(3,))
    model = Model(inputs, Lambda(lambda t: t * 3.0 - 1.0, name="lam")(inputs))
    if fmt in ("h5", "keras"):
        saved = str(tmp_path / f"m.{fmt}")
        model.save(saved)
    else:
        saved = model.to_json() if fmt == "json" else model.to_yaml()
    with pytest.raises(ValueError, match=r"Python `lambda`.*safe_mode=False"):
        _load(saved, fmt)
    loaded = _load(saved, fmt, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), X * 3.0 - 1.0, rtol=1e-6)
    with SafeModeScope(False):  # the scope reaches every entry point
        config = json.loads(model.to_json())
        assert Model.from_config(config["config"]).layers[-1].name == "lam"
        assert Lambda.from_config(_layer(config, "lam")["config"]).name == "lam"
        assert tkeras.layers.deserialize(_layer(config, "lam")).name == "lam"
    with pytest.raises(ValueError, match="Python `lambda`"):
        Lambda.from_config(_layer(json.loads(model.to_json()), "lam")["config"])
    assert Lambda.from_config(_layer(json.loads(model.to_json()), "lam")["config"],
                              safe_mode=False).name == "lam"
    assert tkeras.layers.deserialize(_layer(json.loads(model.to_json()), "lam"),
                                     safe_mode=False).name == "lam"


def test_safe_mode_false_searches_only_modules_already_imported(tmp_path):
    """As Keras: outside safe mode a Lambda's function name is found in the module the file
    names, but that module is never imported by loading."""
    config = json.loads(_model().to_json())
    _set_lambda_entry(config, "function", "sqrt", "function", "math_module_never_imported_x")
    with pytest.raises(ValueError, match="'sqrt' from module 'math_module_never_imported_x', "
                                         "which is not imported. tkeras never imports"):
        model_from_json(json.dumps(config), safe_mode=False)
    assert "math_module_never_imported_x" not in sys.modules
    _set_lambda_entry(config, "function", "sigmoid", "function", "torch")
    import torch
    assert model_from_json(json.dumps(config), safe_mode=False).get_layer("lam").function \
        is torch.sigmoid


def test_sequential_from_config_reads_the_scope():
    model = Sequential([Input(shape=(3,)), Lambda(lambda t: t + 1.0, name="lam")])
    config = model.get_config()
    with pytest.raises(ValueError, match="Python `lambda`"):
        Sequential.from_config(copy.deepcopy(config))
    with SafeModeScope(False):
        assert Sequential.from_config(copy.deepcopy(config)).layers[-1].name == "lam"
