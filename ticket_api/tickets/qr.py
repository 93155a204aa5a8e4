"""A ticket's door code as a QR code (segno: pure Python, SVG out)."""

import io

import segno


def svg(code):
    """The code as a standalone SVG: dark modules on white (a phone in dark mode still
    scans), with the quiet zone scanners need, error correction level M."""
    out = io.BytesIO()
    segno.make(code, error="m", micro=False, boost_error=False).save(
        out, kind="svg", scale=8, border=4, dark="#000", light="#fff", title="Door code"
    )
    return out.getvalue()
