import os

import cv2
import numpy as np
import pytest
from PIL import Image

from deep_halftoning.io import ImageReadError, ImageWriteError, read_image, write_image


@pytest.fixture
def photo(rng) -> np.ndarray:
    return (rng.random((12, 17, 3)) * 255).astype(np.uint8)


def test_rgb_and_grey_png(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "rgb.png")
    np.testing.assert_allclose(read_image(tmp_path / "rgb.png"), photo / 255, atol=1e-6)
    Image.fromarray(photo[..., 0]).save(tmp_path / "grey.png")
    grey = read_image(tmp_path / "grey.png")
    assert grey.shape == (12, 17) and grey.dtype == np.float32


def test_alpha_is_composited_on_white(tmp_path, photo):
    rgba = np.dstack([photo, np.zeros(photo.shape[:2], np.uint8)])
    rgba[0, 0, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    out = read_image(tmp_path / "rgba.png")
    assert out.shape == photo.shape
    np.testing.assert_allclose(out[0, 0], photo[0, 0] / 255, atol=1e-6)
    assert out[1:, 1:].min() == 1.0
    Image.fromarray(np.dstack([photo[..., 0], rgba[..., 3]]), "LA").save(tmp_path / "la.png")
    assert read_image(tmp_path / "la.png").shape == (12, 17)


def test_palette_and_bilevel(tmp_path, photo):
    Image.fromarray(photo).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == photo.shape
    Image.fromarray(photo[..., 0]).convert("1").save(tmp_path / "b.png")
    assert set(np.unique(read_image(tmp_path / "b.png"))) <= {0.0, 1.0}


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_keeps_precision(tmp_path, rng, suffix):
    rgb = (rng.random((9, 11, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / f"rgb{suffix}"), rgb[..., ::-1])
    np.testing.assert_allclose(read_image(tmp_path / f"rgb{suffix}"), rgb / 65535, atol=1e-6)
    grey = (rng.random((9, 11)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / f"grey{suffix}"), grey)
    np.testing.assert_allclose(read_image(tmp_path / f"grey{suffix}"), grey / 65535, atol=1e-6)


def test_cmyk_jpeg(tmp_path, photo):
    Image.fromarray(photo).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=98)
    error = np.abs(read_image(tmp_path / "cmyk.jpg") - photo / 255)
    # CMYK JPEGs keep every channel at full resolution: at quality 98 the round trip of random pixels is
    # 0.50-0.55/255 on average and 2-3/255 at most (five seeds); inverted inks would be ~0.5 off
    assert error.shape == photo.shape and error.mean() < 1 / 255 and error.max() < 5 / 255


#: What a viewer shows for each EXIF orientation (tag 0x0112) of the stored pixels ``a`` (EXIF 2.32, 4.6.4).
DISPLAYED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left to right
    3: lambda a: a[::-1, ::-1],  # turned 180 degrees
    4: lambda a: a[::-1],  # mirrored top to bottom
    5: lambda a: a.swapaxes(0, 1),  # mirrored about the top-left to bottom-right diagonal
    6: lambda a: np.rot90(a, -1),  # turned 90 degrees clockwise: the stored top row is the right column
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),  # mirrored about the other diagonal
    8: lambda a: np.rot90(a),  # turned 90 degrees counter-clockwise: the stored top row is the left column
}


def _deep_png(path, pixels: np.ndarray, exif: Image.Exif) -> None:
    """A 16-bit RGB PNG (read by OpenCV, not Pillow) with an eXIf chunk before its image data."""
    import struct
    import zlib

    png = cv2.imencode(".png", pixels[..., ::-1])[1].tobytes()
    body = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    at = png.index(b"IDAT") - 4
    path.write_bytes(png[:at] + chunk + png[at:])


@pytest.mark.parametrize("orientation", list(DISPLAYED))
def test_exif_orientation_is_applied(tmp_path, photo, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    deep = photo.astype(np.uint16) * 256 + np.arange(17, dtype=np.uint16)[:, None]  # 16-bit colour
    Image.fromarray(photo).save(tmp_path / "rgb.png", exif=exif)
    _deep_png(tmp_path / "deep.png", deep, exif)
    Image.fromarray(photo).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    stored_jpeg = np.asarray(Image.open(tmp_path / "phone.jpg").convert("RGB"))  # decoded, not turned
    for name, stored, top in (("rgb.png", photo, 255), ("deep.png", deep, 65535), ("phone.jpg", stored_jpeg, 255)):
        np.testing.assert_allclose(read_image(tmp_path / name), DISPLAYED[orientation](stored) / top, atol=1e-6)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"not an image at all", "not an image"), (None, "truncated")],
)
def test_bad_files_give_clear_errors(tmp_path, photo, content, message):
    path = tmp_path / "bad.png"
    if content is None:
        Image.fromarray(photo).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message):
        read_image(path)


def test_truncated_jpeg_is_refused(tmp_path, rng):
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / "t.jpg")
    data = (tmp_path / "t.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "t.jpg")


def test_missing_directory_and_bomb(tmp_path, photo):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="directory"):
        read_image(tmp_path)
    Image.fromarray(photo).save(tmp_path / "big.png")
    with pytest.raises(ImageReadError, match="exceeds the limit"):
        read_image(tmp_path / "big.png", max_pixels=100)


def test_write_round_trip_and_atomicity(tmp_path, rng):
    image = rng.random((10, 13, 3), dtype=np.float32)
    out = write_image(tmp_path / "sub" / "out.png", image)
    np.testing.assert_allclose(read_image(out), image, atol=1 / 255)
    write_image(tmp_path / "deep.png", image, bit_depth=16)
    np.testing.assert_allclose(read_image(tmp_path / "deep.png"), image, atol=1 / 65535)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out.png"]  # no temp files left
    write_image(tmp_path / "grey.tif", image[..., 0])
    assert read_image(tmp_path / "grey.tif").shape == (10, 13)


@pytest.mark.parametrize("bits", [8, 16])
def test_written_samples_are_rounded_and_clipped_on_every_row(tmp_path, rng, bits):
    image = rng.random((700, 9, 3), dtype=np.float32) * 1.2 - 0.1  # taller than one band of rows, out of range
    top = 2**bits - 1
    written = read_image(write_image(tmp_path / "rows.png", image, bit_depth=bits)) * top
    np.testing.assert_array_equal(np.rint(written), np.floor(np.clip(image * np.float32(top) + 0.5, 0, top)))


def test_write_refuses_inputs_and_bad_requests(tmp_path, rng):
    image = rng.random((4, 4), dtype=np.float32)
    source = write_image(tmp_path / "in.png", image)
    before = source.read_bytes()
    with pytest.raises(ImageWriteError, match="overwrite an input"):
        write_image(tmp_path / "." / "in.png", image * 0, protect=[source])
    os.link(source, tmp_path / "hard.png")
    with pytest.raises(ImageWriteError, match="overwrite an input"):
        write_image(tmp_path / "hard.png", image, protect=[source])
    assert source.read_bytes() == before
    with pytest.raises(ImageWriteError, match="unsupported output format"):
        write_image(tmp_path / "out.xyz", image)
    with pytest.raises(ImageWriteError, match="bit depth"):
        write_image(tmp_path / "out.jpg", image, bit_depth=16)
    with pytest.raises(ImageWriteError, match="shape"):
        write_image(tmp_path / "out.png", np.zeros((4, 4, 2), np.float32))


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os

    from deep_halftoning.io import atomic_output

    mask = os.umask(0o022)
    os.umask(mask)
    with atomic_output(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"done")
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o666 & ~mask


def _scanner_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Scanner Co"
    exif[0x0112] = orientation
    exif[0x0111] = 1234  # StripOffsets: layout, never carried
    exif.get_ifd(0x8769)[0x9003] = "2021:02:03 04:05:06"
    return exif.tobytes()


def _srgb() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_read_info_finds_what_a_derived_image_should_keep(tmp_path, photo):
    from deep_halftoning.io import read_info

    Image.fromarray(photo).save(tmp_path / "s.jpg", dpi=(600, 600), icc_profile=_srgb(), exif=_scanner_exif(6))
    info = read_info(tmp_path / "s.jpg")
    assert (info.format, info.pages, info.bit_depth, info.dpi) == ("JPEG", 1, 8, (600.0, 600.0))
    assert info.icc_profile == _srgb() and info.icc_space == "RGB"
    kept = Image.Exif()
    kept.load(info.exif)
    assert dict(kept) == {0x010F: "Scanner Co", 0x8769: kept[0x8769]}  # no orientation, no strip offsets
    assert kept.get_ifd(0x8769) == {0x9003: "2021:02:03 04:05:06"}
    assert info.to_dict()["icc_profile"]["space"] == "RGB" and info.to_dict()["exif"] is True
    Image.fromarray(photo).save(tmp_path / "plain.png")
    assert read_info(tmp_path / "plain.png").to_dict() == {
        "format": "PNG",
        "pages": 1,
        "bit_depth": 8,
        "dpi": None,
        "icc_profile": None,
        "exif": False,
    }
    for name, data in (("rgb16.png", (photo.astype(np.uint16) * 257)), ("grey16.tif", photo[..., 0] * np.uint16(257))):
        cv2.imwrite(str(tmp_path / name), data)
        assert read_info(tmp_path / name).bit_depth == 16
    with pytest.raises(ImageReadError, match="no such file"):
        read_info(tmp_path / "nope.png")


@pytest.mark.parametrize(("suffix", "bits"), [(".png", 8), (".png", 16), (".tif", 8), (".tif", 16), (".jpg", 8)])
def test_write_keeps_resolution_profile_and_exif(tmp_path, rng, suffix, bits):
    from deep_halftoning.io import ImageInfo, read_info

    Image.fromarray((rng.random((9, 7, 3)) * 255).astype(np.uint8)).save(
        tmp_path / "src.jpg", dpi=(300, 300), icc_profile=_srgb(), exif=_scanner_exif()
    )
    info = read_info(tmp_path / "src.jpg")
    assert isinstance(info, ImageInfo)
    ramp = np.linspace(0.1, 0.9, 7, dtype=np.float32)
    image = np.dstack([np.tile(ramp, (9, 1)), np.tile(ramp[::-1], (9, 1)), np.full((9, 7), 0.5, np.float32)])
    out = write_image(tmp_path / f"out{suffix}", image, bit_depth=bits, info=info)
    back = read_info(out)
    assert back.dpi == (300.0, 300.0) and back.icc_profile == _srgb() and back.bit_depth == bits
    exif = Image.open(out).getexif()
    assert exif[0x010F] == "Scanner Co" and 0x0112 not in exif
    if not (suffix == ".tif" and bits == 16):  # 16-bit colour TIFFs keep the first directory's tags only
        assert exif.get_ifd(0x8769)[0x9003] == "2021:02:03 04:05:06"
    np.testing.assert_allclose(read_image(out), image, atol=0.1 if suffix == ".jpg" else 1 / (2**bits - 1))
    grey = write_image(tmp_path / f"grey{suffix}", image[..., 0], bit_depth=bits, info=info)
    assert read_info(grey).icc_profile is None and read_info(grey).dpi == (300.0, 300.0)  # RGB profile left out
    plain = write_image(tmp_path / f"plain{suffix}", image, bit_depth=bits)  # no info: as before, nothing added
    assert read_info(plain).icc_profile is None and read_info(plain).exif is None


@pytest.mark.parametrize("bits", [8, 16])
def test_multipage_tiff_round_trip(tmp_path, rng, bits):
    from deep_halftoning.io import ImageInfo, read_info, read_pages, write_pages

    pages = [rng.random((10, 12, 3), dtype=np.float32), rng.random((10, 12), dtype=np.float32), np.ones((5, 6, 3))]
    out = write_pages(tmp_path / "doc.tif", pages, bit_depth=bits, info=ImageInfo(dpi=(400.0, 400.0)))
    info = read_info(out)
    assert (info.pages, info.bit_depth, info.dpi) == (3, bits, (400.0, 400.0))
    back = list(read_pages(out))
    assert [p.shape for p in back] == [(10, 12, 3), (10, 12), (5, 6, 3)]
    for page, original in zip(back, pages, strict=True):
        np.testing.assert_allclose(page, original, atol=1 / (2**bits - 1))
    np.testing.assert_array_equal(read_image(out), back[0])  # read_image: the first page
    assert [p.shape for p in read_pages(tmp_path / "doc.tif")][:1] == [(10, 12, 3)]
    Image.fromarray((pages[0] * 255).astype(np.uint8)).save(tmp_path / "one.png")
    assert len(list(read_pages(tmp_path / "one.png"))) == 1
    with pytest.raises(ImageWriteError, match="3 pages need a TIFF"):
        write_pages(tmp_path / "doc.png", pages)


def test_write_errors_name_the_output(tmp_path, rng):
    image = rng.random((4, 4), dtype=np.float32)
    (tmp_path / "file").write_text("a file")
    with pytest.raises(ImageWriteError) as caught:
        write_image(tmp_path / "file" / "sub" / "o.png", image)
    assert (
        str(caught.value)
        == f"{tmp_path / 'file' / 'sub' / 'o.png'}: cannot write ({tmp_path / 'file'} is a file, not a folder)"
    )
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ImageWriteError, match=r"o\.png: cannot write \(permission denied in .*locked\)$"):
            write_image(locked / "o.png", image)
        locked.chmod(0o700)


def test_an_interrupted_write_leaves_nothing(tmp_path):
    from deep_halftoning.io import atomic_output

    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "out.png") as tmp:
        tmp.write_bytes(b"half an image")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_animation_frames_are_read_as_pages(tmp_path, suffix):
    from conftest import save_animation

    from deep_halftoning.io import read_info, read_pages

    ramp = np.tile(np.linspace(0, 1, 12, dtype=np.float32), (10, 1))
    frames = [ramp, 1 - ramp, np.full((10, 12), 0.5, np.float32)]  # grey: a GIF palette holds them exactly
    path = save_animation(tmp_path / f"anim{suffix}", frames)
    info = read_info(path)
    assert (info.pages, info.page_noun) == (3, "frames")
    back = list(read_pages(path))
    assert len(back) == 3
    for page, frame in zip(back, frames, strict=True):
        grey = page if page.ndim == 2 else page.mean(axis=2)
        np.testing.assert_allclose(grey, frame, atol=1 / 255)
    np.testing.assert_allclose(np.atleast_3d(read_image(path)).mean(axis=2), ramp, atol=1 / 255)  # the first


def test_a_camera_mpo_jpeg_is_one_page(tmp_path):
    from deep_halftoning.io import read_info, read_pages

    photo, preview = (Image.fromarray(np.full((16, 16, 3), v, np.uint8)) for v in (40, 200))
    photo.save(tmp_path / "camera.jpg", format="MPO", save_all=True, append_images=[preview])
    assert Image.open(tmp_path / "camera.jpg").n_frames == 2  # a second picture, not a page
    assert read_info(tmp_path / "camera.jpg").pages == 1 and len(list(read_pages(tmp_path / "camera.jpg"))) == 1
