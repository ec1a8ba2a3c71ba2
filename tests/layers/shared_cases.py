"""The shared layer-test cases of the family test modules, as one list, for checks that
run over every layer class (torch conversions, mixed precision): ``(id, factory,
input_shape, input_dtype)``, where ``input_shape`` is a full shape or a list of them."""
import importlib

FAMILY_MODULES = ["test_advanced_activations", "test_convolutional", "test_core_merge_contract",
                  "test_embeddings", "test_local", "test_noise", "test_normalization",
                  "test_pooling", "test_recurrent", "test_wrappers"]
CASE_LISTS = ("CASES", "BN_CASES", "MERGE")
INTEGER_INPUT_MODULES = {"test_embeddings"}


def _is_shape(value) -> bool:
    if isinstance(value, tuple):
        return all(isinstance(d, int) for d in value)
    return isinstance(value, list) and value and all(_is_shape(v) for v in value)


def all_cases():
    cases = []
    for module_name in FAMILY_MODULES:
        module = importlib.import_module(module_name)
        dtype = "int32" if module_name in INTEGER_INPUT_MODULES else "float32"
        for list_name in CASE_LISTS:
            for case in getattr(module, list_name, []):
                name, factory, shape = case[0], case[1], case[2]
                assert callable(factory) and _is_shape(shape), case
                cases.append((f"{module_name[5:]}-{name}", factory, shape, dtype))
    return cases
