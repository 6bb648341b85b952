#!/usr/bin/env python3
"""Writes test/fixtures/tiny-embedder: a BERT-shaped feature-extraction model
small enough to check in (vocab of letters, word pieces and common words;
hidden size 32), with the tokenizer files transformers.js reads. It exists so
TransformersEmbedder is tested end to end (tokenize -> ONNX Runtime -> mean
pooling -> normalise) without downloading weights. Deterministic: a fixed seed.

Run with Debian's python3-onnx: /usr/bin/python3 scripts/make-tiny-embedder.py
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 32
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'tiny-embedder')

SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
WORDS = """when the a an is are of to and in on for with by at from as it that this
be or not if then else solve problem answer compute check final result step steps
number numbers sum product divide multiply add subtract equation equations integer
fraction fractions prime factor factors square root roots triangle circle area
angle angles probability count counting modular arithmetic algebra geometry
simplify verify units unit first last before after always never use using
write writes code test tests function functions error errors bug bugs loop
value values variable variables list lists string strings sort search""".split()
LETTERS = [chr(c) for c in range(ord('a'), ord('z') + 1)] + [str(d) for d in range(10)] + list('.,;:!?()[]{}+-*/=<>^%$#@&\'"\\_|~`')

vocab = []
for t in SPECIAL + WORDS + LETTERS + ['##' + c for c in LETTERS]:
    if t not in vocab:
        vocab.append(t)
ids = {t: i for i, t in enumerate(vocab)}

rng = np.random.default_rng(20261125)
word = rng.standard_normal((len(vocab), HIDDEN)).astype(np.float32)
types = (0.1 * rng.standard_normal((2, HIDDEN))).astype(np.float32)
mix = (rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32)

inputs = [
    helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch', 'sequence']),
    helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch', 'sequence']),
    helper.make_tensor_value_info('token_type_ids', TensorProto.INT64, ['batch', 'sequence']),
]
output = helper.make_tensor_value_info('last_hidden_state', TensorProto.FLOAT, ['batch', 'sequence', HIDDEN])
nodes = [
    helper.make_node('Gather', ['word_embeddings', 'input_ids'], ['w']),
    helper.make_node('Gather', ['token_type_embeddings', 'token_type_ids'], ['t']),
    helper.make_node('Add', ['w', 't'], ['e']),
    helper.make_node('MatMul', ['e', 'mix'], ['m']),
    helper.make_node('Tanh', ['m'], ['h']),
    helper.make_node('Add', ['h', 'e'], ['last_hidden_state']),
]
graph = helper.make_graph(
    nodes, 'tiny_bert', inputs, [output],
    initializer=[numpy_helper.from_array(word, 'word_embeddings'),
                 numpy_helper.from_array(types, 'token_type_embeddings'),
                 numpy_helper.from_array(mix, 'mix')])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14)], producer_name='dso-engine')
model.ir_version = 8
onnx.checker.check_model(model)

os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
onnx.save(model, os.path.join(OUT, 'onnx', 'model.onnx'))

special = {t: {'id': t, 'ids': [ids[t]], 'tokens': [t]} for t in ('[CLS]', '[SEP]')}
tokenizer = {
    'version': '1.0',
    'truncation': None,
    'padding': None,
    'added_tokens': [{'id': ids[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                      'normalized': False, 'special': True} for t in SPECIAL],
    'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                   'strip_accents': None, 'lowercase': True},
    'pre_tokenizer': {'type': 'BertPreTokenizer'},
    'post_processor': {
        'type': 'TemplateProcessing',
        'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                   {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
        'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                 {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                 {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
        'special_tokens': special,
    },
    'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
    'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
              'max_input_chars_per_word': 100, 'vocab': ids},
}
tokenizer_config = {
    'tokenizer_class': 'BertTokenizer', 'do_lower_case': True, 'model_max_length': 128,
    'cls_token': '[CLS]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'unk_token': '[UNK]', 'mask_token': '[MASK]',
    'clean_up_tokenization_spaces': True,
}
config = {
    'architectures': ['BertModel'], 'model_type': 'bert', 'hidden_size': HIDDEN, 'num_attention_heads': 1,
    'num_hidden_layers': 1, 'intermediate_size': HIDDEN, 'max_position_embeddings': 128,
    'type_vocab_size': 2, 'vocab_size': len(vocab), 'pad_token_id': 0,
}
for name, obj in (('tokenizer.json', tokenizer), ('tokenizer_config.json', tokenizer_config), ('config.json', config)):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')
print(f'wrote {OUT}: vocab {len(vocab)}, hidden {HIDDEN}')
