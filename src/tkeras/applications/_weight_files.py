"""Where Keras publishes each application's ImageNet weights, and the hash it pins.

``imagenet_file(key, include_top)`` gives ``(file_name, origin, file_hash)``, the arguments
the constructors pass to ``get_file(..., cache_subdir="models")``. The names, origins and
hashes are tf-keras 2.x's, so a file Keras already downloaded into ``~/.keras/models`` is
found and reused. MobileNet and MobileNetV2 files have no pinned hash in Keras (None).
"""
from __future__ import annotations

from typing import Optional, Tuple

_STORAGE = "https://storage.googleapis.com/tensorflow/keras-applications/"

_RESNET_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107",
                  "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5",
                   "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62",
                   "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0",
                    "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971",
                     "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9",
                     "ed17cf2e0169df9d443503ef94b23b33"),
}
_MOBILENET_V3_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                              "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                             "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                          "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                              "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                             "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                          "cde8136e733e811080d9fcd8a252f7e4"),
}
_REGNET_HASHES = {
    "x002": ("49fb46e56cde07fdaf57bffd851461a86548f6a3a4baef234dd37290b826c0b8",
              "5445b66cd50445eb7ecab094c1e78d4d3d29375439d1a7798861c4af15ffff21"),
    "x004": ("3523c7f5ac0dbbcc2fd6d83b3570e7540f7449d3301cc22c29547302114e4088",
              "de139bf07a66c9256f2277bf5c1b6dd2d5a3a891a5f8a925a10c8a0a113fd6f3"),
    "x006": ("340216ef334a7bae30daac9f414e693c136fac9ab868704bbfcc9ce6a5ec74bb",
              "a43ec97ad62f86b2a96a783bfdc63a5a54de02eef54f26379ea05e1bf90a9505"),
    "x008": ("8f145d6a5fae6da62677bb8d26eb92d0b9dfe143ec1ebf68b24a57ae50a2763d",
              "3c7e4b0917359304dc18e644475c5c1f5e88d795542b676439c4a3acd63b7207"),
    "x016": ("31c386f4c7bfef4c021a583099aa79c1b3928057ba1b7d182f174674c5ef3510",
              "1b8e3d545d190271204a7b2165936a227d26b79bb7922bac5ee4d303091bf17a"),
    "x032": ("6c025df1409e5ea846375bc9dfa240956cca87ef57384d93fef7d6fa90ca8c7f",
              "9cd4522806c0fcca01b37874188b2bd394d7c419956d77472a4e072b01d99041"),
    "x040": ("ba128046c588a26dbd3b3a011b26cb7fa3cf8f269c184c132372cb20b6eb54c1",
              "b4ed0ca0b9a98e789e05000e830403a7ade4d8afa01c73491c44610195198afe"),
    "x064": ("0f4489c3cd3ad979bd6b0324213998bcb36dc861d178f977997ebfe53c3ba564",
              "3e706fa416a18dfda14c713423eba8041ae2509db3e0a611d5f599b5268a46c4"),
    "x080": ("76320e43272719df648db37271a247c22eb6e810fe469c37a5db7e2cb696d162",
              "7b1ce8e29ceefec10a6569640ee329dba7fbc98b5d0f6346aabade058b66cf29"),
    "x120": ("5cafc461b78897d5e4f24e68cb406d18e75f31105ef620e7682b611bb355eb3a",
              "36174ddd0299db04a42631d028abcb1cc7afec2b705e42bd28fcd325e5d596bf"),
    "x160": ("8093f57a5824b181fb734ea21ae34b1f7ee42c5298e63cf6d587c290973195d2",
              "9d1485050bdf19531ffa1ed7827c75850e0f2972118a996b91aa9264b088fd43"),
    "x320": ("91fb3e6f4e9e44b3687e80977f7f4412ee9937c0c704232664fc83e4322ea01e",
              "9db7eacc37b85c98184070e1a172e6104c00846f44bcd4e727da9e50d9692398"),
    "y002": ("1e8091c674532b1a61c04f6393a9c570113e0197f22bd1b98cc4c4fe800c6465",
              "f63221f63d625b8e201221499682587bfe29d33f50a4c4f4d53be00f66c0f12c"),
    "y004": ("752fdbad21c78911bf1dcb8c513e5a0e14697b068e5d9e73525dbaa416d18d8e",
              "45e6ba8309a17a77e67afc05228454b2e0ee6be0dae65edc0f31f1da10cc066b"),
    "y006": ("98942e07b273da500ff9699a1f88aca78dfad4375faabb0bab784bb0dace80a9",
              "b70261cba4e60013c99d130cc098d2fce629ff978a445663b6fa4f8fc099a2be"),
    "y008": ("1b099377cc9a4fb183159a6f9b24bc998e5659d25a449f40c90cbffcbcfdcae4",
              "b11f5432a216ee640fe9be6e32939defa8d08b8d136349bf3690715a98752ca1"),
    "y016": ("b7ce1f5e223f0941c960602de922bcf846288ce7a4c33b2a4f2e4ac4b480045b",
              "d7404f50205e82d793e219afb9eb2bfeb781b6b2d316a6128c6d7d7dacab7f57"),
    "y032": ("6a6a545cf3549973554c9b94f0cd40e25f229fffb1e7f7ac779a59dcbee612bd",
              "eb3ac1c45ec60f4f031c3f5180573422b1cf7bebc26c004637517372f68f8937"),
    "y040": ("98d00118b335162bbffe8f1329e54e5c8e75ee09b2a5414f97b0ddfc56e796f6",
              "b5be2a5e5f072ecdd9c0b8a437cd896df0efa1f6a1f77e41caa8719b7dfcb05d"),
    "y064": ("65c948c7a18aaecaad2d1bd4fd978987425604ba6669ef55a1faa0069a2804b7",
              "885c4b7ed7ea339daca7dafa1a62cb7d41b1068897ef90a5a3d71b4a2e2db31a"),
    "y080": ("7a2c62da2982e369a4984d3c7c3b32d6f8d3748a71cb37a31156c436c37f3e95",
              "3d119577e1e3bf8d153b895e8ea9e4ec150ff2d92abdca711b6e949c3fd7115d"),
    "y120": ("a96ab0d27d3ae35a422ee7df0d789069b3e3217a99334e0ce861a96595bc5986",
              "4a6fa387108380b730b71feea2ad80b5224b5ea9dc21dc156c93fe3c6186485c"),
    "y160": ("45067240ffbc7ca2591313fee2f80dbdda6d66ec1a7451446f9a6d00d8f7ac6e",
              "ead1e6b568be8f34447ec8941299a9df4368736ba9a8205de5427fa20a1fb316"),
    "y320": ("b05e173e4ae635cfa22d06392ee3741284d17dadfee68f2aa6fd8cb2b7561112",
              "cad78f74a586e24c61d38be17f3ae53bb9674380174d2585da1a526b8c20e1fd"),
}
_EFFICIENTNET_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac",
            "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540",
            "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad",
            "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0",
            "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc",
            "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a",
            "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5",
            "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99",
            "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
_EFFICIENTNET_V2_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188",
            "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc",
            "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7",
            "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0",
            "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016",
            "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd",
            "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935",
            "b0b66b5c863aef5b46e8608fe1711615"),
}
_CONVNEXT_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                       "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                       "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                         "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}


# key -> (top file, top hash, no-top file, no-top hash, base origin)
_FILES = {
    "vgg16": ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b",
              "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "6d6bbae143d832006294945121d1f1fc", _STORAGE + "vgg16/"),
    "vgg19": ("vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318",
              "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "253f8cb515780f3b799900260a226db6", _STORAGE + "vgg19/"),
    "xception": ("xception_weights_tf_dim_ordering_tf_kernels.h5",
                 "0a58e3b7378bc2990ea3b43d5981f1f6",
                 "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 "b0042744bf5b25fce3cb969f33bebb97", _STORAGE + "xception/"),
    "inception_v3": ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                     "9a0d58056eeedaa3f26cb7ebd46da564",
                     "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "bcbd6486424b2319ff4ef7d526e38f63", _STORAGE + "inception_v3/"),
    "inception_resnet_v2": ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                            "e693bd0210a403b3192acc6073ad2e96",
                            "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                            "d19885ff4a710c122648d3b5c3b684e4",
                            _STORAGE + "inception_resnet_v2/"),
    "densenet121": ("densenet121_weights_tf_dim_ordering_tf_kernels.h5",
                    "9d60b8095a5708f2dcce2bca79d332c7",
                    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "30ee3e1110167f948a6b9946edeeb738", _STORAGE + "densenet/"),
    "densenet169": ("densenet169_weights_tf_dim_ordering_tf_kernels.h5",
                    "d699b8f76981ab1b30698df4c175e90b",
                    "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "b8c4d4c20dd625c148057b9ff1c1176b", _STORAGE + "densenet/"),
    "densenet201": ("densenet201_weights_tf_dim_ordering_tf_kernels.h5",
                    "1ceb130c1ea1b78c3bf6114dbdfd8807",
                    "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "c13680b51ded0fb44dff2d8f86ac8bb1", _STORAGE + "densenet/"),
}
# NASNet: the local file name differs from the published one.
_NASNET = {
    "nasnet_mobile": (("nasnet_mobile.h5", "NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
                      ("nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5",
                       "1ed92395b5b598bdda52abe5c0dbfd63")),
    "nasnet_large": (("nasnet_large.h5", "NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
                     ("nasnet_large_no_top.h5", "NASNet-large-no-top.h5",
                      "d81d89dc07e6e56530c4e77faddd61b5")),
}


def _table(hashes, base, suffix_top=".h5", suffix_notop="_notop.h5", prefix="", key_of=None):
    for name, (top, notop) in hashes.items():
        key = key_of(name) if key_of else name
        _FILES[key] = (prefix + key + suffix_top, top, prefix + key + suffix_notop, notop, base)


_table(_RESNET_HASHES, _STORAGE + "resnet/", "_weights_tf_dim_ordering_tf_kernels.h5",
       "_weights_tf_dim_ordering_tf_kernels_notop.h5")
_table(_EFFICIENTNET_HASHES, "https://storage.googleapis.com/keras-applications/",
       key_of=lambda b: "efficientnet" + b)
_table(_EFFICIENTNET_V2_HASHES, _STORAGE + "efficientnet_v2/",
       key_of=lambda b: "efficientnetv2" + ("-" + b if not b.startswith("-") else b))
_table(_CONVNEXT_HASHES, _STORAGE + "convnext/")
_table(_REGNET_HASHES, _STORAGE + "regnet/", key_of=lambda n: "regnet" + n)
for _name, (_top, _notop) in _MOBILENET_V3_HASHES.items():
    _FILES["mobilenet_v3_" + _name] = ("weights_mobilenet_v3_" + _name + ".h5", _top,
                                       "weights_mobilenet_v3_" + _name + "_no_top_v2.h5", _notop,
                                       _STORAGE + "mobilenet_v3/")


def imagenet_file(key: str, include_top: bool) -> Tuple[str, str, Optional[str]]:
    """``(file_name, origin, file_hash)`` of the ImageNet weights Keras publishes for ``key``.

    Args:
        key: the file's stem: the model name ("vgg16", "resnet50", "efficientnetb0",
            "efficientnetv2-s", "convnext_tiny", "regnetx002", "nasnet_mobile",
            "mobilenet_v3_large_224_1.0_float") or, for MobileNet / MobileNetV2,
            "mobilenet_<alpha_text>_<rows>" / "mobilenet_v2_<alpha>_<rows>".
        include_top: the file with the classifier, or the "no top" one.

    Example:
        >>> imagenet_file("vgg16", include_top=False)[0]
        'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    if key in _NASNET:
        fname, published, file_hash = _NASNET[key][0 if include_top else 1]
        return fname, _STORAGE + "nasnet/" + published, file_hash
    if key.startswith("mobilenet_v2_"):
        fname = ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_" + key[len("mobilenet_v2_"):]
                 + ("" if include_top else "_no_top") + ".h5")
        return fname, _STORAGE + "mobilenet_v2/" + fname, None
    if key.startswith("mobilenet_") and key not in _FILES:
        fname = key + ("_tf.h5" if include_top else "_tf_no_top.h5")
        return fname, _STORAGE + "mobilenet/" + fname, None
    if key not in _FILES:
        raise ValueError(f"No ImageNet weights are published for {key!r}.")
    top, top_hash, notop, notop_hash, base = _FILES[key]
    fname, file_hash = (top, top_hash) if include_top else (notop, notop_hash)
    return fname, base + fname, file_hash
