"""atelier's diffusion worker: DreamBooth training (Lightning + diffusers + peft) and image generation, driven by the
TypeScript side over JSON lines on stdio (see protocol.py and worker.py)."""
