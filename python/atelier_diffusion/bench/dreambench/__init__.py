"""DreamBench-mini: the DreamBooth paper's evaluation in miniature, with exact metrics because images are drawn.

* :mod:`.vocab` — the closed world (classes, colours, patterns, backgrounds);
* :mod:`.scenes`, :mod:`.dataset` — the deterministic scene generator, captions and the captioned folder format;
* :mod:`.subjects` — subjects absent from the base training set, their instance images, the evaluation prompts;
* :mod:`.measurer` — the CNN that reads attributes back from images, trusted only at ≥ 95 % held-out accuracy;
* :mod:`.metrics` — subject fidelity, prompt fidelity, class drift (PRES) and diversity (DIV);
* :mod:`.vae`, :mod:`.base_model`, :mod:`.captioned` — the from-scratch base model, trained by atelier's trainer;
* :mod:`.report`, ``__main__`` — scoring generated images, the grid, and the CLI that ``bench/dreambench.ts`` calls.

See docs/dreambench.md for the protocol.
"""
