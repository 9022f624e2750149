#!/usr/bin/env python3
"""make-index.py DIR: a PEP 503 "simple" index holding one tiny pure-Python
wheel, built with the stdlib only (no setuptools, no wheel package).

    DIR/simple/index.html
    DIR/simple/tinypkg/index.html                      links the wheel, with its sha256
    DIR/simple/tinypkg/tinypkg-1.0-py3-none-any.whl    tinypkg/__init__.py: VALUE = "tinypkg ok"

Serve DIR with `servers.py files DIR`; then
    pip install --index-url http://HOST:PORT/simple/ --trusted-host HOST tinypkg
"""
import base64
import hashlib
import os
import sys
import zipfile

NAME, VERSION = "tinypkg", "1.0"


def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(path):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}/__init__.py": b'VALUE = "tinypkg ok"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
                            f"Summary: a test package for the airlock gateway tests\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: make-index.py\n"
                         b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            zi = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    pkgdir = os.path.join(sys.argv[1], "simple", NAME)
    os.makedirs(pkgdir, exist_ok=True)
    whl = f"{NAME}-{VERSION}-py3-none-any.whl"
    build_wheel(os.path.join(pkgdir, whl))
    with open(os.path.join(pkgdir, whl), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    page = "<!DOCTYPE html>\n<html><body>\n{}\n</body></html>\n"
    with open(os.path.join(pkgdir, "index.html"), "w") as f:
        f.write(page.format(f'<a href="{whl}#sha256={sha}">{whl}</a>'))
    with open(os.path.join(sys.argv[1], "simple", "index.html"), "w") as f:
        f.write(page.format(f'<a href="{NAME}/">{NAME}</a>'))


if __name__ == "__main__":
    main()
