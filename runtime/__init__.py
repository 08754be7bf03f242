"""The local model, and the vocabulary it speaks. Imports nothing of daemon/, adapters/, policies/.

The tool catalog
- ``catalog``: entities, areas, tools and typed arguments; validation and JSON schemas.
- ``services``: the services each domain offers, shaped by what a device can do.
- ``plan``: what a planner hands back (calls, when to run them, a question, a refusal).

The model runtime
- ``local_model.load_model`` opens a Hugging Face Optimum export (``model_folder``: format
  detection, config, tokenizer, sandboxed chat template) on ONNX Runtime (``backend_onnx``) or
  OpenVINO, stateful or not (``backend_openvino``), behind one ``backend.Backend`` interface.
- ``generate``: decoding with a bounded, prefix-reusable KV cache, per-token log-probabilities,
  and retries that resume an earlier generation's cache.
- ``constrained``: llguidance grammars, compiled once per catalog, so only valid calls come out.
- ``bounded_cache``: the fixed-size caches of what is prepared once per catalog version.
- ``model_tools``: ``edgeward model inspect|quantize``; ``random_model``: random-weight exports for
  tests and benchmarks; ``errors``: the exception types.

The embedded planner
- ``planner``: request + area + the home's description -> prompt -> constrained decoding of a
  frame -> ``Plan``, with the grounding cap on confidence; a request of several parts is also
  planned part by part; ``frames``: the frame language the
  embedded model writes (what the request says), its grammar over a home, and its resolution
  into calls by the data's rules; ``schema_planner``: the same for a bring-your-own chat model,
  which answers JSON under a schema of the catalog.
- ``retrieval``: candidate entities and tools for big homes, lexical and fuzzy, on the box.
- ``language``: which of en/fr/es/de a request is in, when the caller does not say.
- ``typos``: a request's typos of the home's words mended before the model reads it.
- ``doubts``: the planner's checks of a frame against the request's words and the home (what
  to decode again, what to trust less); ``action_words``: the words that say "on" or "off",
  "lock" or "unlock", for one of them, and whether a part of a request says an action at all.
- ``homes``, ``plan_rules``, ``phrasing``, ``requests_data``, ``ha_sentences``: the training data
  generator (random homes, the rules for expected plans, requests in en/fr/es/de).
- ``eval_set``, ``evaluation``: the hand-written set and ``edgeward eval``.
- ``training/``: the torch training and export script (optional ``[train]`` extra).
- ``default_model/``: the shipped model; ``MODEL_CARD.md`` says how it was made and how it does.
"""
