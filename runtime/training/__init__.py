"""How the embedded planner model is made: tokenizer, decoder, training loop and export.

``python -m edgeward.runtime.training.train --out runtime/default_model --minutes 56 --seed 0``
trains a small Llama-shaped decoder (``model``) from scratch on CPU on requests from
:mod:`edgeward.runtime.requests_data` (``tokenizer``, ``packing``), then writes an Optimum-style
model folder (ONNX int8 and OpenVINO int8 weights, tokenizer, configs) that the runtime loads
like any bring-your-own model (``export``). ``reexport`` rebuilds a model from a folder written
by the export's earlier layout and writes it in the current one. Needs the optional ``train``
extra (torch); nothing here runs in the daemon.
"""
