"""No loading path can run code stored in a file: the sources of tkeras use no pickle, no
``torch.load`` without ``weights_only=True``, no ``eval`` / ``exec``, no ``marshal`` outside
the one opt-in spot (Lambda bytecode, behind ``safe_mode=False``), no unsafe YAML or numpy
loads, and import no module whose name is computed at run time."""
import ast
import os

import pytest

import tkeras

SRC = os.path.dirname(tkeras.__file__)

# the one place that may turn stored bytes into code: generic_utils.func_load, reached only
# through deserialize_function's safe-mode check
MARSHAL_ALLOWED = {os.path.join("utils", "generic_utils.py")}
# the one place that may read a pickle: the dataset files' SafeUnpickler, a pickle.Unpickler
# whose find_class allows only numpy's array reconstruction (CIFAR batches and the object
# arrays of the imdb / reuters npz files are pickles); there only pickle.Unpickler and the
# error classes may be used, never pickle.load / loads (checked below)
PICKLE_ALLOWED = {os.path.join("datasets", "_files.py")}
PICKLE_ALLOWED_NAMES = {"pickle.Unpickler", "pickle.UnpicklingError"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "joblib",
                     "marshal"}


def _sources():
    for folder, _, files in os.walk(SRC):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, SRC), path


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword_is(call: ast.Call, name: str, value) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value
               for k in call.keywords)


def _problems(rel: str, tree: ast.Module):
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in FORBIDDEN_MODULES and not (top == "marshal" and rel in MARSHAL_ALLOWED) \
                        and not (name == "pickle" and isinstance(node, ast.Import)
                                 and rel in PICKLE_ALLOWED):
                    yield f"{where}: imports {name}"
        if isinstance(node, ast.Attribute) and _dotted(node).startswith("pickle.") and \
                _dotted(node) not in PICKLE_ALLOWED_NAMES:
            yield f"{where}: uses {_dotted(node)} (only a restricted pickle.Unpickler may read)"
        if not isinstance(node, ast.Call):
            continue
        func = _dotted(node.func)
        if func in ("eval", "exec") and func not in defined:  # K.eval is defined in backend
            yield f"{where}: calls builtin {func}()"
        if func in ("builtins.eval", "builtins.exec", "__import__", "compile") and \
                func not in defined:
            yield f"{where}: calls {func}()"
        if func == "torch.load" and not _keyword_is(node, "weights_only", True):
            yield f"{where}: torch.load without weights_only=True"
        if func in ("np.load", "numpy.load") and _keyword_is(node, "allow_pickle", True):
            yield f"{where}: np.load with allow_pickle=True"
        if func in ("yaml.load", "yaml.unsafe_load", "yaml.full_load", "yaml.load_all"):
            yield f"{where}: {func} (use yaml.safe_load)"
        if func in ("importlib.import_module", "import_module") and node.args and \
                not isinstance(node.args[0], ast.Constant):
            yield f"{where}: imports a module whose name is computed at run time"
        if func.endswith("marshal.loads") and rel not in MARSHAL_ALLOWED:
            yield f"{where}: marshal.loads"


def test_sources_hold_no_way_to_run_code_from_a_file():
    problems = []
    for rel, path in _sources():
        with open(path, encoding="utf-8") as f:
            problems.extend(_problems(rel, ast.parse(f.read(), filename=path)))
    assert problems == []


@pytest.mark.parametrize("snippet, problem", [
    ("import pickle", "imports pickle"),
    ("from marshal import loads", "imports marshal"),
    ("torch.load(path)", "torch.load without weights_only=True"),
    ("torch.load(path, weights_only=False)", "torch.load without weights_only=True"),
    ("eval(text)", "calls builtin eval()"),
    ("exec(text)", "calls builtin exec()"),
    ("yaml.load(text)", "yaml.load (use yaml.safe_load)"),
    ("np.load(path, allow_pickle=True)", "np.load with allow_pickle=True"),
    ("importlib.import_module(config['module'])", "computed at run time"),
])
def test_the_scan_finds_each_forbidden_use(snippet, problem):
    """The scanner itself: each forbidden form is reported (so the test above can fail)."""
    found = list(_problems("saving/x.py", ast.parse(snippet)))
    assert len(found) == 1 and problem in found[0]


def test_the_scan_allows_the_safe_forms():
    ok = ("torch.load(path, weights_only=True)\nyaml.safe_load(text)\nnp.load(path)\n"
          "importlib.import_module('PIL.Image')\nK.eval(x)\nmodel.compile(optimizer='sgd')\n"
          "def eval(x):\n    return x\neval(1)\n")
    assert list(_problems("backend/x.py", ast.parse(ok))) == []


def test_the_scan_allows_pickle_only_as_the_dataset_files_restricted_unpickler():
    restricted = ("import pickle\nclass SafeUnpickler(pickle.Unpickler):\n    pass\n"
                  "class Refused(pickle.UnpicklingError):\n    pass\n")
    allowed = os.path.join("datasets", "_files.py")
    assert list(_problems(allowed, ast.parse(restricted))) == []
    assert len(list(_problems("datasets/other.py", ast.parse(restricted)))) == 1  # the import
    for use in ("pickle.load(f)", "pickle.loads(data)", "pickle._Unpickler(f)"):
        found = list(_problems(allowed, ast.parse(f"import pickle\n{use}\n")))
        assert len(found) == 1 and "only a restricted pickle.Unpickler may read" in found[0]
    assert len(list(_problems(allowed, ast.parse("from pickle import loads\n")))) == 1
