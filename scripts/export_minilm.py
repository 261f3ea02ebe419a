"""Builds an ONNX graph of all-MiniLM-L6-v2 (BERT, 6 layers) from model.safetensors.

Usage: export_minilm.py MODEL_SAFETENSORS CONFIG_JSON OUT_FP32_ONNX [OUT_QUANTIZED_ONNX]

Inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq]); output
last_hidden_state (float [batch, seq, hidden]), as the Hugging Face export names them, so
fastembed's mean pooling applies. Exact-erf GELU, additive attention mask, opset 17.
With a fourth argument, also writes a dynamically quantised copy (int8 MatMul weights,
per channel) with onnxruntime.quantization.
"""

import json
import math
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file


def build(weights, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config["layer_norm_eps"]
    inits, nodes = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(value, prefix="c"):
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def weight(key, transpose=False):
        w = weights[key].astype(np.float32)
        if transpose:
            w = np.ascontiguousarray(w.T)
        inits.append(numpy_helper.from_array(w, key))
        return key

    def op(kind, inputs, **attrs):
        out = name(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    def linear(x, prefix):
        y = op("MatMul", [x, weight(prefix + ".weight", transpose=True)])
        return op("Add", [y, weight(prefix + ".bias")])

    def layer_norm(x, prefix):
        return op("LayerNormalization",
                  [x, weight(prefix + ".weight"), weight(prefix + ".bias")],
                  axis=-1, epsilon=eps)

    # Embeddings.
    seq_len = op("Gather", [op("Shape", ["input_ids"]), const(np.array(1, dtype=np.int64))],
                 axis=0)
    positions = op("Range", [const(np.array(0, dtype=np.int64)), seq_len,
                             const(np.array(1, dtype=np.int64))])
    x = op("Add", [op("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                   op("Gather", [weight("embeddings.position_embeddings.weight"), positions])])
    x = op("Add", [x, op("Gather", [weight("embeddings.token_type_embeddings.weight"),
                                    "token_type_ids"])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Additive mask [batch, 1, 1, seq]: 0 where attended, a large negative elsewhere.
    mask = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = op("Mul", [op("Sub", [const(np.array(1.0, dtype=np.float32)), mask]),
                      const(np.array(-10000.0, dtype=np.float32))])
    mask = op("Unsqueeze", [mask, const(np.array([1, 2], dtype=np.int64))])

    split_shape = const(np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = const(np.array([0, 0, hidden], dtype=np.int64))
    scale = const(np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    half = const(np.array(0.5, dtype=np.float32))
    one = const(np.array(1.0, dtype=np.float32))
    sqrt2 = const(np.array(math.sqrt(2.0), dtype=np.float32))

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads_of(kind, perm):
            return op("Transpose", [op("Reshape", [linear(x, p + "attention.self." + kind),
                                                   split_shape])], perm=perm)

        q = heads_of("query", [0, 2, 1, 3])
        k = heads_of("key", [0, 2, 3, 1])
        v = heads_of("value", [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), mask])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge_shape])
        attn = linear(context, p + "attention.output.dense")
        x = layer_norm(op("Add", [attn, x]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = op("Mul", [op("Mul", [h, half]),
                       op("Add", [op("Erf", [op("Div", [h, sqrt2])]), one])])
        out = linear(h, p + "output.dense")
        x = layer_norm(op("Add", [out, x]), p + "output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    ids = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", "sequence", hidden])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="lore-export-minilm")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    safetensors_path, config_path, out_fp32 = sys.argv[1:4]
    with open(config_path) as f:
        config = json.load(f)
    onnx.save(build(load_file(safetensors_path), config), out_fp32)
    if len(sys.argv) > 4:
        import logging

        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice
        quantize_dynamic(out_fp32, sys.argv[4], weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"])


if __name__ == "__main__":
    main()
