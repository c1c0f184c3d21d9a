"""A tiny random-weight InternVL checkpoint in transformers' "-hf" format, made on the spot
(nothing is downloaded): a 1-layer vision tower with 56-px patches (16 image tokens per
448-px tile instead of 256), a 2-layer Qwen2 language model with hidden size 32, and a
byte-level BPE tokenizer trained here with InternVL's special tokens and chat template.

Run as a script (`python tiny_internvl.py FOLDER`) so the test process never imports
torch; it writes FOLDER/tiny.json with what the tests need to know. The text it generates
is gibberish: tests check the plumbing, not the words.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<video>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}"
    "{% elif content['type'] == 'video' %}{{ '<video>\n' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{'<|im_end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\n' }}{% endif %}"
)
TRAINING_TEXT = ["Please extract all text from this image, in reading order.",
                 "Invoice No. 2024-117  Total 42.00 EUR  VAT 19%", "发票 合计 金额 日期"]


def build(folder: Path) -> dict:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLVisionConfig,
        PreTrainedTokenizerFast,
        Qwen2Config,
    )
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    folder.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(TRAINING_TEXT * 20, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=CHAT_TEMPLATE,
        extra_special_tokens={"start_image_token": "<img>", "end_image_token": "</img>",
                              "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"})
    # What the -hf conversions ship: 448-px tiles, ImageNet mean/std, tiling on.
    images = GotOcr2ImageProcessorPil(do_resize=True, size={"height": 448, "width": 448}, crop_to_patches=True,
                                      min_patches=1, max_patches=12, image_mean=[0.485, 0.456, 0.406],
                                      image_std=[0.229, 0.224, 0.225], do_convert_rgb=True)
    vision = InternVLVisionConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=64, image_size=448, patch_size=56)
    text = Qwen2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                       intermediate_size=64, vocab_size=len(tokenizer), max_position_embeddings=16384,
                       eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    config = InternVLConfig(vision_config=vision, text_config=text,
                            image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
                            image_seq_length=16, tie_word_embeddings=False)
    config.architectures = ["InternVLForConditionalGeneration"]
    torch.manual_seed(1234)
    model = InternVLForConditionalGeneration(config).eval()
    with torch.no_grad():
        # A zero row scores 0 where random rows score around it: the end token is never
        # the best, so answers run to max_tokens (or a cancel) instead of stopping by chance.
        model.get_output_embeddings().weight[tokenizer.eos_token_id].zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    images.save_pretrained(folder)
    info = {"tokens_per_tile": 16, "eos_token_id": tokenizer.eos_token_id,
            "image_token_id": config.image_token_id, "vocab_size": len(tokenizer)}
    (folder / "tiny.json").write_text(json.dumps(info))
    return info


def make(folder: Path, timeout: float = 300) -> dict:
    """Build in a fresh interpreter (torch stays out of the caller); returns tiny.json."""
    done = subprocess.run([sys.executable, __file__, str(folder)], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"building the tiny InternVL failed:\n{done.stderr[-3000:]}")
    return json.loads((folder / "tiny.json").read_text())


if __name__ == "__main__":
    build(Path(sys.argv[1]))
