"""Keras's ImageNet weight files: the origin / hash table, the download through get_file
into ~/.keras/models (a local server stands in for Keras's storage), and loading files in
the exact layout of Keras's (layer names, weight names, shapes and order from
keras_reference; random values), from "imagenet" or from a user's path."""
import hashlib
import json
import os

import h5py
import numpy as np
import pytest
import torch

import tkeras
from tkeras import applications as A
from tkeras.applications import _weight_files
from tkeras.utils import data_utils

from conftest import ref_path

_S = "https://storage.googleapis.com/tensorflow/keras-applications/"
_K = "https://storage.googleapis.com/keras-applications/"

KERAS_WEIGHT_FILES = [  # (key, include_top, file name, origin, file hash): tf-keras 2.x
    ("vgg16", True, "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"),
    ("vgg16", False, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "6d6bbae143d832006294945121d1f1fc"),
    ("vgg19", True, "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"),
    ("vgg19", False, "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "253f8cb515780f3b799900260a226db6"),
    ("xception", True, "xception_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "xception/xception_weights_tf_dim_ordering_tf_kernels.h5",
     "0a58e3b7378bc2990ea3b43d5981f1f6"),
    ("xception", False, "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "b0042744bf5b25fce3cb969f33bebb97"),
    ("inception_v3", True, "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
     "9a0d58056eeedaa3f26cb7ebd46da564"),
    ("inception_v3", False, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "bcbd6486424b2319ff4ef7d526e38f63"),
    ("inception_resnet_v2", True, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
     "e693bd0210a403b3192acc6073ad2e96"),
    ("inception_resnet_v2", False,
     "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "d19885ff4a710c122648d3b5c3b684e4"),
    ("densenet121", True, "densenet121_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels.h5",
     "9d60b8095a5708f2dcce2bca79d332c7"),
    ("densenet121", False, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "30ee3e1110167f948a6b9946edeeb738"),
    ("densenet169", True, "densenet169_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "densenet/densenet169_weights_tf_dim_ordering_tf_kernels.h5",
     "d699b8f76981ab1b30698df4c175e90b"),
    ("densenet169", False, "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "b8c4d4c20dd625c148057b9ff1c1176b"),
    ("densenet201", True, "densenet201_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "densenet/densenet201_weights_tf_dim_ordering_tf_kernels.h5",
     "1ceb130c1ea1b78c3bf6114dbdfd8807"),
    ("densenet201", False, "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "c13680b51ded0fb44dff2d8f86ac8bb1"),
    ("nasnet_mobile", True, "nasnet_mobile.h5",
     _S + "nasnet/NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
    ("nasnet_mobile", False, "nasnet_mobile_no_top.h5",
     _S + "nasnet/NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63"),
    ("nasnet_large", True, "nasnet_large.h5",
     _S + "nasnet/NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
    ("nasnet_large", False, "nasnet_large_no_top.h5",
     _S + "nasnet/NASNet-large-no-top.h5", "d81d89dc07e6e56530c4e77faddd61b5"),
    ("resnet50", True, "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
     "2cb95161c43110f7111970584f804107"),
    ("resnet50", False, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "4d473c1dd8becc155b73f8504c6f6626"),
    ("resnet101", True, "resnet101_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5",
     "f1aeb4b969a6efcfb50fad2f0c20cfc5"),
    ("resnet101", False, "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "88cf7a10940856eca736dc7b7e228a21"),
    ("resnet152", True, "resnet152_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5",
     "100835be76be38e30d865e96f2aaae62"),
    ("resnet152", False, "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    ("resnet50v2", True, "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels.h5",
     "3ef43a0b657b3be2300d5770ece849e0"),
    ("resnet50v2", False, "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "fac2f116257151a9d068a22e544a4917"),
    ("resnet101v2", True, "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels.h5",
     "6343647c601c52e1368623803854d971"),
    ("resnet101v2", False, "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "c0ed64b8031c3730f411d2eb4eea35b5"),
    ("resnet152v2", True, "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
     _S + "resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
     "a49b44d1979771252814e80f8ec446f9"),
    ("resnet152v2", False, "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     _S + "resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "ed17cf2e0169df9d443503ef94b23b33"),
    ("efficientnetb0", True, "efficientnetb0.h5",
     _K + "efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac"),
    ("efficientnetb0", False, "efficientnetb0_notop.h5",
     _K + "efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d"),
    ("efficientnetb1", True, "efficientnetb1.h5",
     _K + "efficientnetb1.h5", "1d254153d4ab51201f1646940f018540"),
    ("efficientnetb1", False, "efficientnetb1_notop.h5",
     _K + "efficientnetb1_notop.h5", "74c4e6b3e1f6a1eea24c589628592432"),
    ("efficientnetb2", True, "efficientnetb2.h5",
     _K + "efficientnetb2.h5", "b15cce36ff4dcbd00b6dd88e7857a6ad"),
    ("efficientnetb2", False, "efficientnetb2_notop.h5",
     _K + "efficientnetb2_notop.h5", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    ("efficientnetb3", True, "efficientnetb3.h5",
     _K + "efficientnetb3.h5", "ffd1fdc53d0ce67064dc6a9c7960ede0"),
    ("efficientnetb3", False, "efficientnetb3_notop.h5",
     _K + "efficientnetb3_notop.h5", "af6d107764bb5b1abb91932881670226"),
    ("efficientnetb4", True, "efficientnetb4.h5",
     _K + "efficientnetb4.h5", "18c95ad55216b8f92d7e70b3a046e2fc"),
    ("efficientnetb4", False, "efficientnetb4_notop.h5",
     _K + "efficientnetb4_notop.h5", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    ("efficientnetb5", True, "efficientnetb5.h5",
     _K + "efficientnetb5.h5", "ace28f2a6363774853a83a0b21b9421a"),
    ("efficientnetb5", False, "efficientnetb5_notop.h5",
     _K + "efficientnetb5_notop.h5", "38879255a25d3c92d5e44e04ae6cec6f"),
    ("efficientnetb6", True, "efficientnetb6.h5",
     _K + "efficientnetb6.h5", "165f6e37dce68623721b423839de8be5"),
    ("efficientnetb6", False, "efficientnetb6_notop.h5",
     _K + "efficientnetb6_notop.h5", "9ecce42647a20130c1f39a5d4cb75743"),
    ("efficientnetb7", True, "efficientnetb7.h5",
     _K + "efficientnetb7.h5", "8c03f828fec3ef71311cd463b6759d99"),
    ("efficientnetb7", False, "efficientnetb7_notop.h5",
     _K + "efficientnetb7_notop.h5", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
    ("efficientnetv2-b0", True, "efficientnetv2-b0.h5",
     _S + "efficientnet_v2/efficientnetv2-b0.h5", "21ecbf6da12460d5c40bb2f29ceb2188"),
    ("efficientnetv2-b0", False, "efficientnetv2-b0_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-b0_notop.h5", "893217f2bb855e2983157299931e43ff"),
    ("efficientnetv2-b1", True, "efficientnetv2-b1.h5",
     _S + "efficientnet_v2/efficientnetv2-b1.h5", "069f0534ff22adf035c89e2d9547a9dc"),
    ("efficientnetv2-b1", False, "efficientnetv2-b1_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-b1_notop.h5", "0e80663031ca32d657f9caa404b6ec37"),
    ("efficientnetv2-b2", True, "efficientnetv2-b2.h5",
     _S + "efficientnet_v2/efficientnetv2-b2.h5", "424e49f28180edbde1e94797771950a7"),
    ("efficientnetv2-b2", False, "efficientnetv2-b2_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-b2_notop.h5", "1dfe2e7a5d45b6632553a8961ea609eb"),
    ("efficientnetv2-b3", True, "efficientnetv2-b3.h5",
     _S + "efficientnet_v2/efficientnetv2-b3.h5", "1f1fc43bd98a6e4fd8fdfd551e02c7a0"),
    ("efficientnetv2-b3", False, "efficientnetv2-b3_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-b3_notop.h5", "f6abf7b5849ac99a89b50dd3fd532856"),
    ("efficientnetv2-s", True, "efficientnetv2-s.h5",
     _S + "efficientnet_v2/efficientnetv2-s.h5", "e1d88a8495beba45748fedd0cecbe016"),
    ("efficientnetv2-s", False, "efficientnetv2-s_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-s_notop.h5", "af0682fb74e8c54910f2d4393339c070"),
    ("efficientnetv2-m", True, "efficientnetv2-m.h5",
     _S + "efficientnet_v2/efficientnetv2-m.h5", "a3bf6aa3276309f4fc6a34aa114c95cd"),
    ("efficientnetv2-m", False, "efficientnetv2-m_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-m_notop.h5", "1b8dc055df72dde80d614482840fe342"),
    ("efficientnetv2-l", True, "efficientnetv2-l.h5",
     _S + "efficientnet_v2/efficientnetv2-l.h5", "27e6d408b53c7ebc868fefa357689935"),
    ("efficientnetv2-l", False, "efficientnetv2-l_notop.h5",
     _S + "efficientnet_v2/efficientnetv2-l_notop.h5", "b0b66b5c863aef5b46e8608fe1711615"),
    ("convnext_tiny", True, "convnext_tiny.h5",
     _S + "convnext/convnext_tiny.h5",
     "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff"),
    ("convnext_tiny", False, "convnext_tiny_notop.h5",
     _S + "convnext/convnext_tiny_notop.h5",
     "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    ("convnext_small", True, "convnext_small.h5",
     _S + "convnext/convnext_small.h5",
     "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c"),
    ("convnext_small", False, "convnext_small_notop.h5",
     _S + "convnext/convnext_small_notop.h5",
     "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    ("convnext_base", True, "convnext_base.h5",
     _S + "convnext/convnext_base.h5",
     "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6"),
    ("convnext_base", False, "convnext_base_notop.h5",
     _S + "convnext/convnext_base_notop.h5",
     "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    ("convnext_large", True, "convnext_large.h5",
     _S + "convnext/convnext_large.h5",
     "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6"),
    ("convnext_large", False, "convnext_large_notop.h5",
     _S + "convnext/convnext_large_notop.h5",
     "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    ("convnext_xlarge", True, "convnext_xlarge.h5",
     _S + "convnext/convnext_xlarge.h5",
     "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee"),
    ("convnext_xlarge", False, "convnext_xlarge_notop.h5",
     _S + "convnext/convnext_xlarge_notop.h5",
     "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
    ("regnetx002", True, "regnetx002.h5",
     _S + "regnet/regnetx002.h5",
     "49fb46e56cde07fdaf57bffd851461a86548f6a3a4baef234dd37290b826c0b8"),
    ("regnetx002", False, "regnetx002_notop.h5",
     _S + "regnet/regnetx002_notop.h5",
     "5445b66cd50445eb7ecab094c1e78d4d3d29375439d1a7798861c4af15ffff21"),
    ("regnetx004", True, "regnetx004.h5",
     _S + "regnet/regnetx004.h5",
     "3523c7f5ac0dbbcc2fd6d83b3570e7540f7449d3301cc22c29547302114e4088"),
    ("regnetx004", False, "regnetx004_notop.h5",
     _S + "regnet/regnetx004_notop.h5",
     "de139bf07a66c9256f2277bf5c1b6dd2d5a3a891a5f8a925a10c8a0a113fd6f3"),
    ("regnetx006", True, "regnetx006.h5",
     _S + "regnet/regnetx006.h5",
     "340216ef334a7bae30daac9f414e693c136fac9ab868704bbfcc9ce6a5ec74bb"),
    ("regnetx006", False, "regnetx006_notop.h5",
     _S + "regnet/regnetx006_notop.h5",
     "a43ec97ad62f86b2a96a783bfdc63a5a54de02eef54f26379ea05e1bf90a9505"),
    ("regnetx008", True, "regnetx008.h5",
     _S + "regnet/regnetx008.h5",
     "8f145d6a5fae6da62677bb8d26eb92d0b9dfe143ec1ebf68b24a57ae50a2763d"),
    ("regnetx008", False, "regnetx008_notop.h5",
     _S + "regnet/regnetx008_notop.h5",
     "3c7e4b0917359304dc18e644475c5c1f5e88d795542b676439c4a3acd63b7207"),
    ("regnetx016", True, "regnetx016.h5",
     _S + "regnet/regnetx016.h5",
     "31c386f4c7bfef4c021a583099aa79c1b3928057ba1b7d182f174674c5ef3510"),
    ("regnetx016", False, "regnetx016_notop.h5",
     _S + "regnet/regnetx016_notop.h5",
     "1b8e3d545d190271204a7b2165936a227d26b79bb7922bac5ee4d303091bf17a"),
    ("regnetx032", True, "regnetx032.h5",
     _S + "regnet/regnetx032.h5",
     "6c025df1409e5ea846375bc9dfa240956cca87ef57384d93fef7d6fa90ca8c7f"),
    ("regnetx032", False, "regnetx032_notop.h5",
     _S + "regnet/regnetx032_notop.h5",
     "9cd4522806c0fcca01b37874188b2bd394d7c419956d77472a4e072b01d99041"),
    ("regnetx040", True, "regnetx040.h5",
     _S + "regnet/regnetx040.h5",
     "ba128046c588a26dbd3b3a011b26cb7fa3cf8f269c184c132372cb20b6eb54c1"),
    ("regnetx040", False, "regnetx040_notop.h5",
     _S + "regnet/regnetx040_notop.h5",
     "b4ed0ca0b9a98e789e05000e830403a7ade4d8afa01c73491c44610195198afe"),
    ("regnetx064", True, "regnetx064.h5",
     _S + "regnet/regnetx064.h5",
     "0f4489c3cd3ad979bd6b0324213998bcb36dc861d178f977997ebfe53c3ba564"),
    ("regnetx064", False, "regnetx064_notop.h5",
     _S + "regnet/regnetx064_notop.h5",
     "3e706fa416a18dfda14c713423eba8041ae2509db3e0a611d5f599b5268a46c4"),
    ("regnetx080", True, "regnetx080.h5",
     _S + "regnet/regnetx080.h5",
     "76320e43272719df648db37271a247c22eb6e810fe469c37a5db7e2cb696d162"),
    ("regnetx080", False, "regnetx080_notop.h5",
     _S + "regnet/regnetx080_notop.h5",
     "7b1ce8e29ceefec10a6569640ee329dba7fbc98b5d0f6346aabade058b66cf29"),
    ("regnetx120", True, "regnetx120.h5",
     _S + "regnet/regnetx120.h5",
     "5cafc461b78897d5e4f24e68cb406d18e75f31105ef620e7682b611bb355eb3a"),
    ("regnetx120", False, "regnetx120_notop.h5",
     _S + "regnet/regnetx120_notop.h5",
     "36174ddd0299db04a42631d028abcb1cc7afec2b705e42bd28fcd325e5d596bf"),
    ("regnetx160", True, "regnetx160.h5",
     _S + "regnet/regnetx160.h5",
     "8093f57a5824b181fb734ea21ae34b1f7ee42c5298e63cf6d587c290973195d2"),
    ("regnetx160", False, "regnetx160_notop.h5",
     _S + "regnet/regnetx160_notop.h5",
     "9d1485050bdf19531ffa1ed7827c75850e0f2972118a996b91aa9264b088fd43"),
    ("regnetx320", True, "regnetx320.h5",
     _S + "regnet/regnetx320.h5",
     "91fb3e6f4e9e44b3687e80977f7f4412ee9937c0c704232664fc83e4322ea01e"),
    ("regnetx320", False, "regnetx320_notop.h5",
     _S + "regnet/regnetx320_notop.h5",
     "9db7eacc37b85c98184070e1a172e6104c00846f44bcd4e727da9e50d9692398"),
    ("regnety002", True, "regnety002.h5",
     _S + "regnet/regnety002.h5",
     "1e8091c674532b1a61c04f6393a9c570113e0197f22bd1b98cc4c4fe800c6465"),
    ("regnety002", False, "regnety002_notop.h5",
     _S + "regnet/regnety002_notop.h5",
     "f63221f63d625b8e201221499682587bfe29d33f50a4c4f4d53be00f66c0f12c"),
    ("regnety004", True, "regnety004.h5",
     _S + "regnet/regnety004.h5",
     "752fdbad21c78911bf1dcb8c513e5a0e14697b068e5d9e73525dbaa416d18d8e"),
    ("regnety004", False, "regnety004_notop.h5",
     _S + "regnet/regnety004_notop.h5",
     "45e6ba8309a17a77e67afc05228454b2e0ee6be0dae65edc0f31f1da10cc066b"),
    ("regnety006", True, "regnety006.h5",
     _S + "regnet/regnety006.h5",
     "98942e07b273da500ff9699a1f88aca78dfad4375faabb0bab784bb0dace80a9"),
    ("regnety006", False, "regnety006_notop.h5",
     _S + "regnet/regnety006_notop.h5",
     "b70261cba4e60013c99d130cc098d2fce629ff978a445663b6fa4f8fc099a2be"),
    ("regnety008", True, "regnety008.h5",
     _S + "regnet/regnety008.h5",
     "1b099377cc9a4fb183159a6f9b24bc998e5659d25a449f40c90cbffcbcfdcae4"),
    ("regnety008", False, "regnety008_notop.h5",
     _S + "regnet/regnety008_notop.h5",
     "b11f5432a216ee640fe9be6e32939defa8d08b8d136349bf3690715a98752ca1"),
    ("regnety016", True, "regnety016.h5",
     _S + "regnet/regnety016.h5",
     "b7ce1f5e223f0941c960602de922bcf846288ce7a4c33b2a4f2e4ac4b480045b"),
    ("regnety016", False, "regnety016_notop.h5",
     _S + "regnet/regnety016_notop.h5",
     "d7404f50205e82d793e219afb9eb2bfeb781b6b2d316a6128c6d7d7dacab7f57"),
    ("regnety032", True, "regnety032.h5",
     _S + "regnet/regnety032.h5",
     "6a6a545cf3549973554c9b94f0cd40e25f229fffb1e7f7ac779a59dcbee612bd"),
    ("regnety032", False, "regnety032_notop.h5",
     _S + "regnet/regnety032_notop.h5",
     "eb3ac1c45ec60f4f031c3f5180573422b1cf7bebc26c004637517372f68f8937"),
    ("regnety040", True, "regnety040.h5",
     _S + "regnet/regnety040.h5",
     "98d00118b335162bbffe8f1329e54e5c8e75ee09b2a5414f97b0ddfc56e796f6"),
    ("regnety040", False, "regnety040_notop.h5",
     _S + "regnet/regnety040_notop.h5",
     "b5be2a5e5f072ecdd9c0b8a437cd896df0efa1f6a1f77e41caa8719b7dfcb05d"),
    ("regnety064", True, "regnety064.h5",
     _S + "regnet/regnety064.h5",
     "65c948c7a18aaecaad2d1bd4fd978987425604ba6669ef55a1faa0069a2804b7"),
    ("regnety064", False, "regnety064_notop.h5",
     _S + "regnet/regnety064_notop.h5",
     "885c4b7ed7ea339daca7dafa1a62cb7d41b1068897ef90a5a3d71b4a2e2db31a"),
    ("regnety080", True, "regnety080.h5",
     _S + "regnet/regnety080.h5",
     "7a2c62da2982e369a4984d3c7c3b32d6f8d3748a71cb37a31156c436c37f3e95"),
    ("regnety080", False, "regnety080_notop.h5",
     _S + "regnet/regnety080_notop.h5",
     "3d119577e1e3bf8d153b895e8ea9e4ec150ff2d92abdca711b6e949c3fd7115d"),
    ("regnety120", True, "regnety120.h5",
     _S + "regnet/regnety120.h5",
     "a96ab0d27d3ae35a422ee7df0d789069b3e3217a99334e0ce861a96595bc5986"),
    ("regnety120", False, "regnety120_notop.h5",
     _S + "regnet/regnety120_notop.h5",
     "4a6fa387108380b730b71feea2ad80b5224b5ea9dc21dc156c93fe3c6186485c"),
    ("regnety160", True, "regnety160.h5",
     _S + "regnet/regnety160.h5",
     "45067240ffbc7ca2591313fee2f80dbdda6d66ec1a7451446f9a6d00d8f7ac6e"),
    ("regnety160", False, "regnety160_notop.h5",
     _S + "regnet/regnety160_notop.h5",
     "ead1e6b568be8f34447ec8941299a9df4368736ba9a8205de5427fa20a1fb316"),
    ("regnety320", True, "regnety320.h5",
     _S + "regnet/regnety320.h5",
     "b05e173e4ae635cfa22d06392ee3741284d17dadfee68f2aa6fd8cb2b7561112"),
    ("regnety320", False, "regnety320_notop.h5",
     _S + "regnet/regnety320_notop.h5",
     "cad78f74a586e24c61d38be17f3ae53bb9674380174d2585da1a526b8c20e1fd"),
    ("mobilenet_v3_large_224_0.75_float", True, "weights_mobilenet_v3_large_224_0.75_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_224_0.75_float.h5",
     "765b44a33ad4005b3ac83185abf1d0eb"),
    ("mobilenet_v3_large_224_0.75_float", False,
     "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
     "40af19a13ebea4e2ee0c676887f69a2e"),
    ("mobilenet_v3_large_224_1.0_float", True, "weights_mobilenet_v3_large_224_1.0_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float.h5",
     "59e551e166be033d707958cf9e29a6a7"),
    ("mobilenet_v3_large_224_1.0_float", False,
     "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
     "07fb09a5933dd0c8eaafa16978110389"),
    ("mobilenet_v3_large_minimalistic_224_1.0_float", True,
     "weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5",
     "675e7b876c45c57e9e63e6d90a36599c"),
    ("mobilenet_v3_large_minimalistic_224_1.0_float", False,
     "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5",
     "ec5221f64a2f6d1ef965a614bdae7973"),
    ("mobilenet_v3_small_224_0.75_float", True, "weights_mobilenet_v3_small_224_0.75_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_224_0.75_float.h5",
     "cb65d4e5be93758266aa0a7f2c6708b7"),
    ("mobilenet_v3_small_224_0.75_float", False,
     "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5",
     "ebdb5cc8e0b497cd13a7c275d475c819"),
    ("mobilenet_v3_small_224_1.0_float", True, "weights_mobilenet_v3_small_224_1.0_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float.h5",
     "8768d4c2e7dee89b9d02b2d03d65d862"),
    ("mobilenet_v3_small_224_1.0_float", False,
     "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
     "d3e8ec802a04aa4fc771ee12a9a9b836"),
    ("mobilenet_v3_small_minimalistic_224_1.0_float", True,
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5",
     "99cd97fb2fcdad2bf028eb838de69e37"),
    ("mobilenet_v3_small_minimalistic_224_1.0_float", False,
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5",
     _S + "mobilenet_v3/weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5",
     "cde8136e733e811080d9fcd8a252f7e4"),
    ("mobilenet_1_0_224", True, "mobilenet_1_0_224_tf.h5",
     _S + "mobilenet/mobilenet_1_0_224_tf.h5", None),
    ("mobilenet_1_0_224", False, "mobilenet_1_0_224_tf_no_top.h5",
     _S + "mobilenet/mobilenet_1_0_224_tf_no_top.h5", None),
    ("mobilenet_7_5_128", True, "mobilenet_7_5_128_tf.h5",
     _S + "mobilenet/mobilenet_7_5_128_tf.h5", None),
    ("mobilenet_7_5_128", False, "mobilenet_7_5_128_tf_no_top.h5",
     _S + "mobilenet/mobilenet_7_5_128_tf_no_top.h5", None),
    ("mobilenet_v2_0.35_96", True, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5",
     _S + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5", None),
    ("mobilenet_v2_0.35_96", False,
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5",
     _S + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5", None),
    ("mobilenet_v2_1.4_224", True, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5",
     _S + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5", None),
    ("mobilenet_v2_1.4_224", False,
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224_no_top.h5",
     _S + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224_no_top.h5", None),
    ("mobilenet_v2_1.0_224", False,
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
     _S + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", None),
]


@pytest.mark.parametrize("key,include_top,fname,origin,file_hash", KERAS_WEIGHT_FILES,
                         ids=[f"{r[0]}-{'top' if r[1] else 'notop'}" for r in KERAS_WEIGHT_FILES])
def test_weight_file_table_equals_keras(key, include_top, fname, origin, file_hash):
    assert _weight_files.imagenet_file(key, include_top) == (fname, origin, file_hash)


class _Fetched(Exception):
    pass


@pytest.mark.parametrize("build,fname", [
    (lambda: A.ResNet50V2(), "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.MobileNet(alpha=0.75, input_shape=(128, 128, 3), include_top=False),
     "mobilenet_7_5_128_tf_no_top.h5"),
    (lambda: A.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3)),
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5"),
    (lambda: A.MobileNetV2(include_top=False, input_shape=(100, 120, 3)),
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
    (lambda: A.MobileNetV3Small(minimalistic=True, include_top=False),
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5"),
    (lambda: A.NASNetMobile(), "nasnet_mobile.h5"),
    (lambda: A.EfficientNetB0(include_top=False), "efficientnetb0_notop.h5"),
    (lambda: A.EfficientNetV2S(), "efficientnetv2-s.h5"),
    (lambda: A.RegNetY002(), "regnety002.h5"),
    (lambda: A.InceptionResNetV2(include_top=False),
     "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
])
def test_constructors_ask_get_file_for_kerass_file(monkeypatch, build, fname):
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        raise _Fetched

    monkeypatch.setattr(data_utils, "get_file", fake_get_file)
    with torch.device("meta"), pytest.raises(_Fetched):
        build()
    (got_fname, origin, kwargs), = calls
    assert got_fname == fname
    expected = next(r for r in KERAS_WEIGHT_FILES if r[2] == fname)
    assert origin == expected[3]
    assert kwargs == {"cache_subdir": "models", "file_hash": expected[4]}


# ---------------------------------------------------------------- files in Keras's layout

def _write_keras_weight_file(path, case, seed=0, last_layer=None):
    """A weights file laid out as Keras's: every layer of keras_reference's architecture in
    ``layer_names`` (up to ``last_layer``: Keras's no-top files end at the last conv block),
    each group's ``weight_names`` in Keras's order; random values."""
    with open(ref_path("applications", case + ".json")) as f:
        ref = json.load(f)
    if last_layer is not None:
        names = [layer["name"] for layer in ref["layers"]]
        ref["layers"] = ref["layers"][:names.index(last_layer) + 1]
    rng = np.random.RandomState(seed)
    values = {}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer["name"].encode() for layer in ref["layers"]]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in ref["layers"]:
            g = f.create_group(layer["name"])
            g.attrs["weight_names"] = [w[0].encode() for w in layer["weights"]]
            arrays = []
            for name, shape in layer["weights"]:
                value = rng.standard_normal(shape).astype("float32") * 0.1
                if "moving_variance" in name:
                    value = np.abs(value) + 0.5
                g.create_dataset(name, data=value)
                arrays.append(value)
            values[layer["name"]] = arrays
    return ref, values


def _assert_loaded(model, values):
    for layer in model.layers:
        expected = values[layer.name]
        got = layer.get_weights()
        assert len(got) == len(expected), layer.name
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def test_user_weight_file_loads_completely_and_sets_the_predictions(tmp_path):
    path = str(tmp_path / "mobilenet.h5")
    ref, values = _write_keras_weight_file(path, "MobileNet_alpha075_128_classes10")
    kwargs = dict(ref["kwargs"], weights=None, input_shape=tuple(ref["kwargs"]["input_shape"]))
    x = np.random.RandomState(3).uniform(-1, 1, (2, 128, 128, 3)).astype("float32")
    model = A.MobileNet(**dict(kwargs, weights=path))
    _assert_loaded(model, values)
    reference = A.MobileNet(**kwargs)
    before = reference.predict(x, verbose=0)
    reference.set_weights([v for layer in ref["layers"] for v in values[layer["name"]]])
    after = reference.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), after, rtol=1e-5, atol=1e-6)
    assert np.abs(after - before).max() > 1e-3


def test_imagenet_weights_download_once_into_keras_cache(tmp_path, monkeypatch, local_origin):
    src = str(tmp_path / "mobilenet_notop.h5")
    _, values = _write_keras_weight_file(src, "MobileNet_alpha075_128_classes10", seed=1,
                                         last_layer="conv_pw_13_relu")
    data = open(src, "rb").read()
    keras_fname, keras_origin, _ = _weight_files.imagenet_file("mobilenet_7_5_128", False)
    served = local_origin.put(keras_fname, data)
    real = _weight_files.imagenet_file

    def local_table(key, include_top):
        assert (key, include_top) == ("mobilenet_7_5_128", False)
        fname, origin, _ = real(key, include_top)
        return fname, served, hashlib.md5(data).hexdigest()

    monkeypatch.setattr(_weight_files, "imagenet_file", local_table)
    kwargs = dict(include_top=False, weights="imagenet", alpha=0.75, input_shape=(128, 128, 3))
    model = A.MobileNet(**kwargs)
    _assert_loaded(model, values)
    cached = os.path.join(os.environ["KERAS_HOME"], "models", keras_fname)
    assert open(cached, "rb").read() == data
    A.MobileNet(**kwargs)
    assert local_origin.requests == [keras_fname]  # the second model used the cache


def test_weight_file_of_another_architecture_is_refused(tmp_path):
    path = str(tmp_path / "vgg_notop.h5")
    _write_keras_weight_file(path, "VGG16_notop_max_64")
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights from file. "
                       "Model expected 54 layers, found 13 saved layers"):
        A.MobileNet(weights=path, include_top=False, input_shape=(64, 64, 3), alpha=0.25)
