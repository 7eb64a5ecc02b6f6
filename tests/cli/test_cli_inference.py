import json

import cv2
import numpy as np
import pytest
import torch
from conftest import damage_checkpoint
from helpers import TINY_NETS, configured_stage, save_stage

from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.inference import Descreener
from deep_halftoning.io import read_image, write_image
from deep_halftoning.models import CoarseNet
from deep_halftoning.models.checkpoint import save_networks


@pytest.fixture
def screened(tmp_path, rng):
    import cv2

    clean = np.clip(cv2.resize(rng.random((8, 10, 3), dtype=np.float32), (400, 320), cv2.INTER_CUBIC), 0, 1)
    path = write_image(tmp_path / "scan.png", halftone(clean, "am-cmyk", lpi=100, dpi=600).image)
    return path


def test_detect_prints_and_json(screened, capsys):
    assert main(["detect", str(screened), "--dpi", "600"]) == 0
    assert "am" in capsys.readouterr().out
    assert main(["detect", str(screened), "--dpi", "600", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "am" and report["screens"][0]["lpi"] == pytest.approx(100, rel=0.05)


def test_descreen_batch_skips_bad_files_and_reports(tmp_path, screened, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"broken")
    out = tmp_path / "out"
    assert main(["descreen", str(screened), str(bad), "-o", str(out), "--method", "gaussian"]) == 2
    err = capsys.readouterr().err
    assert "descreened 1 of 2" in err and "bad.png" in err
    assert read_image(out / "scan_descreened.png").shape == read_image(screened).shape


def test_descreen_with_a_checkpoint(tmp_path, screened):
    torch.manual_seed(0)
    path = save_stage(configured_stage("coarse", net=TINY_NETS["coarse"]), tmp_path / "coarse.ckpt")
    options = ["--checkpoint", str(path), "--tile", "64", "--overlap", "16", "--device", "cpu", "--precision", "fp32"]
    assert main(["descreen", str(screened), "-o", str(tmp_path / "out"), *options]) == 0
    written = read_image(tmp_path / "out" / "scan_descreened.png")
    model = Descreener.from_checkpoint(path, device="cpu", tile=64, overlap=16, precision="fp32")(read_image(screened))
    assert np.abs(written - model).max() <= 0.5 / 255 + 1e-4  # the model's output, rounded to 8 bits
    recorded = {"checkpoint": str(path), "variant": None, "backend": "openvino", "precision": "fp32"}
    assert _summary(tmp_path / "out")["files"][0]["model"] == recorded


def test_missing_checkpoint_and_conflicting_options_exit_2(tmp_path, screened, capsys):
    assert main(["descreen", str(screened), "-o", str(tmp_path), "--perceptual", "--checkpoint", "x.ckpt"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
    assert main(["descreen", str(screened), "-o", str(tmp_path), "--checkpoint", str(tmp_path / "no.ckpt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rescreen_to_another_method(tmp_path, screened):
    out = tmp_path / "rescreened.png"
    assert main(["rescreen", str(screened), str(out), "--descreen", "fft", "--method", "floyd-steinberg"]) == 0
    assert set(np.unique(read_image(out))) <= {0.0, 1.0}
    assert main(["rescreen", str(screened), str(screened), "--descreen", "fft"]) == 2


# --------------------------------------------------------------------------- batches people point at scans


def _scan(path, kind="am", size=128, seed=0, dpi=600.0):
    """A small test input: an AM (CMYK, 100 lpi at 600 dpi) or Floyd-Steinberg halftone, or a smooth photo."""
    import cv2

    from deep_halftoning.io import ImageInfo

    rng = np.random.default_rng(seed)
    clean = np.clip(cv2.resize(rng.random((4, 5, 3), dtype=np.float32), (size, size), cv2.INTER_CUBIC), 0.2, 0.8)
    if kind == "am":
        image = halftone(clean, "am-cmyk", lpi=100, dpi=600).image
    elif kind == "fs":
        image = halftone(clean, "floyd-steinberg").image
    else:  # continuous tone: a smooth gradient
        image = np.tile(np.linspace(0.15, 0.85, size, dtype=np.float32), (size, 1))
    return write_image(path, image, info=ImageInfo(dpi=(dpi, dpi)) if dpi else None)


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def _summary(out):
    return json.loads((out / "descreen-summary.json").read_text())


def test_same_names_in_different_folders_get_distinct_outputs(tmp_path, capsys):
    a, b = _scan(tmp_path / "d1" / "x.png", "am"), _scan(tmp_path / "d2" / "x.png", "fs")
    out = tmp_path / "out"
    assert main(["descreen", str(a), str(b), "-o", str(out), "--method", "gaussian"]) == 0
    err = capsys.readouterr().err
    assert "mirror the input folders" in err and "descreened 2 of 2" in err
    first, second = read_image(out / "d1" / "x_descreened.png"), read_image(out / "d2" / "x_descreened.png")
    assert not np.array_equal(first, second)  # both kept: nothing overwritten
    assert sorted(p.name for p in out.iterdir()) == ["d1", "d2", "descreen-summary.json"]
    # one folder stays flat, as before
    assert main(["descreen", str(a), "-o", str(tmp_path / "flat"), "--method", "gaussian"]) == 0
    assert (tmp_path / "flat" / "x_descreened.png").is_file()


def test_same_stem_in_one_folder_gets_a_reported_distinct_name(tmp_path, capsys):
    png = _scan(tmp_path / "d" / "x.png", "am")
    jpg = tmp_path / "d" / "x.jpg"
    write_image(jpg, read_image(_scan(tmp_path / "tmp.png", "fs")))
    out = tmp_path / "out"
    assert main(["descreen", str(png), str(jpg), str(png), "-o", str(out), "--method", "median"]) == 0
    err = capsys.readouterr().err
    assert f"{jpg}: {out / 'x_descreened.png'} is {png}'s; writing {out / 'x_jpg_descreened.png'}" in err
    assert "given twice; descreened once" in err
    assert {p.name for p in out.glob("*.png")} == {"x_descreened.png", "x_jpg_descreened.png"}
    records = _summary(out)["files"]
    assert [r["input"] for r in records] == [str(png), str(jpg)]
    assert "x_descreened.png" in records[1]["note"] and records[1]["output"].endswith("x_jpg_descreened.png")


def test_names_differing_only_in_case_get_distinct_reported_outputs(tmp_path, capsys):
    """``X.png`` and ``x.png`` would share one output on a case-insensitive disk (macOS, Windows)."""
    upper, lower = _scan(tmp_path / "d" / "X.png", "am"), _scan(tmp_path / "d" / "x.png", "am", seed=1)
    out = tmp_path / "out"
    assert main(["descreen", str(upper), str(lower), "-o", str(out), "--method", "gaussian"]) == 0
    err = capsys.readouterr().err
    assert f"{lower}: {out / 'x_descreened.png'} is {upper}'s; writing {out / 'x_png_descreened.png'}" in err
    records = _summary(out)["files"]
    outputs = [record["output"] for record in records]
    assert outputs == [str(out / "X_descreened.png"), str(out / "x_png_descreened.png")]
    assert len({name.casefold() for name in outputs}) == 2 and "x_descreened.png" in records[1]["note"]
    first, second = (read_image(output) for output in outputs)  # each input's own result, none overwritten
    assert np.abs(first - read_image(upper)).mean() < np.abs(first - read_image(lower)).mean()
    assert np.abs(second - read_image(lower)).mean() < np.abs(second - read_image(upper)).mean()


def test_recursive_mirrors_sub_folders_and_skips_what_is_not_an_input(tmp_path, capsys):
    scans = tmp_path / "scans"
    _scan(scans / "a.png", "am")
    _scan(scans / "vol1" / "b.png", "fs")
    _scan(scans / "vol1" / "deep" / "c.tif", "am")
    _scan(scans / ".thumbs" / "a.png", "am")  # hidden: skipped
    (scans / "notes.txt").write_text("not an image")
    out = scans / "clean"  # inside the folder walked: its files are outputs, never inputs
    assert main(["descreen", "-r", str(scans), "-o", str(out), "--method", "gaussian"]) == 0
    found = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert found == ["a_descreened.png", "descreen-summary.json", "vol1/b_descreened.png", "vol1/deep/c_descreened.tif"]
    capsys.readouterr()
    assert main(["descreen", "-r", str(scans), "-o", str(out), "--method", "gaussian"]) == 0  # again: same 3
    assert "descreened 3 of 3" in capsys.readouterr().err
    assert main(["descreen", str(scans), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("is a folder; add -r to descreen the images in it") and "\n" not in err


def test_recursive_skips_earlier_outputs_unless_asked(tmp_path, capsys):
    import shutil

    scans = tmp_path / "scans"
    scan = _scan(scans / "a.png", "am")
    assert main(["descreen", str(scan), "-o", str(scans), "--method", "gaussian", "--no-summary"]) == 0  # beside it
    (scans / "r_files").mkdir()
    shutil.copy(scan, scans / "r_files" / "0001-p1-before-724w.png")  # a report's preview
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["descreen", "-r", str(scans), "-o", str(out), "--method", "gaussian"]) == 0
    err = capsys.readouterr().err
    assert f"{scans}: skipped 2 earlier output(s) (*_descreened.*, report previews); --include-outputs" in err
    assert "descreened 1 of 1" in err and [r["input"] for r in _summary(out)["files"]] == [str(scan)]
    assert main(["descreen", "-r", str(scans), "-o", str(out), "--method", "gaussian", "--include-outputs"]) == 0
    assert " of 3 file(s)" in capsys.readouterr().err  # the earlier output, continuous tone, copied
    assert (out / "a_descreened_descreened.png").is_file() and (out / "r_files").is_dir()
    (scans / "a.png").unlink()
    assert main(["descreen", "-r", str(scans), "-o", str(out), "--method", "gaussian"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deep-halftoning: error: nothing to descreen: ") and "skipped 2 earlier" in err


def test_skip_existing_resumes_a_batch(tmp_path, capsys):
    inputs = [str(_scan(tmp_path / f"s{i}.png", "am", seed=i)) for i in range(3)]
    out = tmp_path / "out"
    assert main(["descreen", inputs[0], "-o", str(out), "--method", "fft"]) == 0
    done = out / "s0_descreened.png"
    before = done.read_bytes()
    stamp = done.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["descreen", *inputs, "-o", str(out), "--method", "fft", "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert f"{inputs[0]}: skipped, {done} exists (--skip-existing)" in err
    assert "descreened 2 of 3 file(s)" in err and "1 skipped (output exists)" in err
    assert done.read_bytes() == before and done.stat().st_mtime_ns == stamp
    records = _summary(out)["files"]
    assert [r["status"] for r in records] == ["exists", "descreened", "descreened"]
    assert records[0]["earlier"]["status"] == "descreened"  # what the first run found is kept


def test_ctrl_c_ends_cleanly_and_keeps_the_finished_files(tmp_path, capsys, interrupt_second_file):
    inputs = [str(_scan(tmp_path / f"s{i}.png", "am", seed=i)) for i in range(3)]
    out = tmp_path / "out"
    assert main(["descreen", *inputs, "-o", str(out), "--method", "gaussian"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert _lines(err)[-1].startswith(f"interrupted: 1 of 3 file(s) finished, kept in {out}/")
    assert "--skip-existing" in _lines(err)[-1]
    assert read_image(out / "s0_descreened.png").shape == (128, 128, 3)  # finished, whole
    assert sorted(p.name for p in out.iterdir()) == ["descreen-summary.json", "s0_descreened.png"]  # no partial
    summary = _summary(out)
    assert summary["interrupted"] and [r["status"] for r in summary["files"]] == [
        "descreened",
        "interrupted",
        "not started",
    ]


def test_an_output_that_would_replace_an_input_is_refused(tmp_path, capsys):
    scan = _scan(tmp_path / "x.png", "am")
    before = scan.read_bytes()
    assert main(["descreen", str(scan), "-o", str(tmp_path), "--suffix", "", "--method", "gaussian"]) == 2
    err = capsys.readouterr().err.strip()
    assert "would overwrite the input" in err and str(scan) in err and "\n" not in err
    assert scan.read_bytes() == before and not (tmp_path / "descreen-summary.json").exists()
    other = _scan(tmp_path / "x_descreened.png", "fs")  # an input named like another input's output
    assert main(["descreen", str(scan), str(other), "-o", str(tmp_path), "--method", "gaussian"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_auto_says_what_it_found_and_passes_continuous_tone_through(tmp_path, capsys):
    am, fs, photo = _scan(tmp_path / "am.png", "am"), _scan(tmp_path / "fs.png", "fs"), _scan(tmp_path / "p.png", "")
    out = tmp_path / "out"
    assert main(["descreen", str(am), str(fs), str(photo), "-o", str(out), "--method", "fft"]) == 0
    lines = _lines(capsys.readouterr().err)
    assert lines[0].startswith(f"[1/3] {am}: AM screen (") and "100 lpi at" in lines[0] and "600 dpi" in lines[0]
    assert lines[1].startswith(f"[2/3] {fs}: dispersed dots") and "-> " in lines[1]
    assert lines[2].startswith(f"[3/3] warning: {photo}: continuous tone") and "unchanged" in lines[2]
    assert "--force" in lines[2] and "1 copied unchanged (continuous tone)" in lines[-1]
    np.testing.assert_array_equal(read_image(out / "p_descreened.png"), read_image(photo))
    summary = _summary(out)
    assert summary["method"] == "fft" and summary["counts"] == {
        "descreened": 2,
        "copied": 1,
        "exists": 0,
        "failed": 0,
        "total": 3,
    }
    first, _, last = summary["files"]
    assert first["analysis"][0]["kind"] == "am" and first["analysis"][0]["screens"][0]["lpi"] == pytest.approx(
        100, 0.05
    )
    assert first["method"] == "fft" and first["status"] == "descreened" and first["seconds"] >= 0
    assert last["status"] == "copied" and last["method"] == "copy" and last["analysis"][0]["kind"] == "continuous"
    assert {"input", "output", "analysis", "method", "seconds", "status"} <= set(first)
    # --force descreens it anyway; --summary puts the summary elsewhere
    assert (
        main(
            [
                "descreen",
                str(photo),
                "-o",
                str(out),
                "--method",
                "gaussian",
                "--force",
                "--summary",
                str(tmp_path / "s.json"),
            ]
        )
        == 0
    )
    forced = json.loads((tmp_path / "s.json").read_text())["files"][0]
    assert forced["status"] == "descreened" and forced["method"] == "gaussian"
    # --no-auto: no analysis at all
    capsys.readouterr()
    assert (
        main(["descreen", str(photo), "-o", str(tmp_path / "o2"), "--method", "gaussian", "--no-auto", "--no-summary"])
        == 0
    )
    assert "not analysed" in capsys.readouterr().err and not (tmp_path / "o2" / "descreen-summary.json").exists()


def test_descreen_keeps_resolution_profile_exif_and_sixteen_bits(tmp_path):
    import cv2
    from PIL import Image, ImageCms

    from deep_halftoning.io import ImageInfo, read_info

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Scanner Co"
    image = read_image(_scan(tmp_path / "tmp.png", "am"))
    scan = write_image(
        tmp_path / "scan16.png",
        image,
        bit_depth=16,
        info=ImageInfo(dpi=(600.0, 600.0), icc_profile=profile, exif=exif.tobytes()),
    )
    out = tmp_path / "out"
    assert main(["descreen", str(scan), "-o", str(out), "--method", "gaussian"]) == 0
    result = out / "scan16_descreened.png"
    info = read_info(result)
    assert info.bit_depth == 16 and cv2.imread(str(result), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert info.dpi == (600.0, 600.0) and info.icc_profile == profile
    assert Image.open(result).getexif()[0x010F] == "Scanner Co"
    assert main(["descreen", str(scan), "-o", str(out), "--method", "gaussian", "--bit-depth", "8"]) == 0
    assert read_info(result).bit_depth == 8 and read_info(result).dpi == (600.0, 600.0)


def test_multipage_tiff_is_descreened_page_by_page(tmp_path, capsys):
    from deep_halftoning.io import ImageInfo, read_info, read_pages, write_pages

    am, photo = read_image(_scan(tmp_path / "a.png", "am")), read_image(_scan(tmp_path / "p.png", ""))
    doc = write_pages(tmp_path / "doc.tif", [am, photo, am], info=ImageInfo(dpi=(600.0, 600.0)))
    out = tmp_path / "out"
    assert main(["descreen", str(doc), "-o", str(out), "--method", "gaussian"]) == 0
    err = capsys.readouterr().err
    assert f"{doc} (3 pages): page 1 AM screen" in err and "page(s) 2 continuous tone, kept unchanged" in err
    result = out / "doc_descreened.tif"
    pages = list(read_pages(result))
    assert read_info(result).pages == 3 and read_info(result).dpi == (600.0, 600.0)
    np.testing.assert_array_equal(pages[1], photo)  # the continuous-tone page, kept unchanged
    assert not np.array_equal(pages[0], am) and pages[0].shape == am.shape
    record = _summary(out)["files"][0]
    assert record["pages"] == 3 and record["kept_unchanged"] == [2] and len(record["analysis"]) == 3
    assert main(["descreen", str(doc), "-o", str(out), "--method", "gaussian", "--format", "png"]) == 2
    assert "3 pages; use --format tif" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_animated_gif_and_png_are_descreened_frame_by_frame(tmp_path, capsys, suffix):
    from conftest import save_animation

    from deep_halftoning.io import read_info, read_pages

    frames = [read_image(_scan(tmp_path / f"f{i}.png", "am", seed=i)) for i in range(3)]
    anim = save_animation(tmp_path / f"anim{suffix}", frames)
    out = tmp_path / "out"
    assert main(["descreen", str(anim), "-o", str(out), "--method", "gaussian"]) == 0
    assert f"{anim} (3 pages): " in capsys.readouterr().err
    result = out / "anim_descreened.tif"  # auto: a TIFF keeps every frame
    assert read_info(result).pages == 3 and _summary(out)["files"][0]["pages"] == 3
    pages, originals = list(read_pages(result)), list(read_pages(anim))
    assert all(not np.array_equal(p, o) and p.shape == o.shape for p, o in zip(pages, originals, strict=True))
    assert np.abs(pages[0] - pages[2]).mean() > 0.01  # each frame its own, not the first one repeated
    assert main(["descreen", str(anim), "-o", str(out), "--method", "gaussian", "--format", "png"]) == 2
    assert "3 frames; use --format tif" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_and_lines_otherwise(tmp_path, capsys, monkeypatch):
    import io

    inputs = [str(_scan(tmp_path / f"s{i}.png", "fs", seed=i, size=64)) for i in range(2)]
    assert main(["descreen", *inputs, "-o", str(tmp_path / "a"), "--method", "gaussian"]) == 0
    err = capsys.readouterr().err
    assert "[1/2]" in err and "[2/2]" in err and "%|" not in err

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["descreen", *inputs, "-o", str(tmp_path / "b"), "--method", "gaussian"]) == 0
    text = terminal.getvalue()
    assert "descreen: 100%|" in text and "2/2 [" in text and "<" in text  # tqdm: elapsed<remaining
    assert "[2/2]" in text  # the per-file lines go above the bar
    monkeypatch.undo()
    assert main(["descreen", *inputs, "-o", str(tmp_path / "c"), "--method", "gaussian", "-q"]) == 0
    assert _lines(capsys.readouterr().err) == [
        f"descreened 2 of 2 file(s) into {tmp_path / 'c'}/; summary in {tmp_path / 'c' / 'descreen-summary.json'}"
    ]


def test_output_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    scan = _scan(tmp_path / "x.png", "am")
    (tmp_path / "taken").write_text("a file")
    for out in (tmp_path / "taken", tmp_path / "taken" / "sub"):
        assert main(["descreen", str(scan), "-o", str(out), "--method", "gaussian"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"deep-halftoning: error: {out}:") and "is a file" in err and "\n" not in err


@pytest.mark.parametrize("kind", ["png", "text", "dict", "list", "damaged", "truncated", "bit-flipped"])
def test_a_non_checkpoint_is_one_line(tmp_path, capsys, kind):
    scan = _scan(tmp_path / "x.png", "am", size=64)
    path = tmp_path / f"bad.{kind}"
    if kind == "png":
        path = _scan(tmp_path / "x2.png", "fs", size=64)
    elif kind == "text":
        path.write_text("hello, I am not a checkpoint\n")
    elif kind == "dict":
        torch.save({"a": 1}, path)
    elif kind == "list":
        torch.save([1, 2, 3], path)
    elif kind in ("truncated", "bit-flipped"):
        save_networks(tmp_path / "whole.ckpt", {"coarse": CoarseNet(width=8, depth=3)})
        damage_checkpoint(tmp_path / "whole.ckpt", kind, path)
    else:
        torch.save({"deep_halftoning": {"networks": {"coarse": {"class": "CoarseNet"}}}, "state_dict": {}}, path)
    assert main(["descreen", str(scan), "-o", str(tmp_path / "out"), "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"deep-halftoning: error: {path}: not a") and "checkpoint" in err
    assert "\n" not in err and "Traceback" not in err and "weights_only" not in err
    assert not (tmp_path / "out").exists()


def test_the_shipped_model_on_a_small_batch(tmp_path, capsys):
    am, photo = _scan(tmp_path / "am.png", "am", size=96), _scan(tmp_path / "p.png", "", size=96)
    out = tmp_path / "out"
    assert main(["descreen", str(am), str(photo), "-o", str(out), "--device", "cpu"]) == 0
    lines = _lines(capsys.readouterr().err)
    assert "AM screen" in lines[0] and "(model fidelity;" in lines[0] and "continuous tone" in lines[1]
    first, second = _summary(out)["files"]
    assert first["method"] == "model" and first["model"]["variant"] == "fidelity"
    assert first["model"]["checkpoint"].endswith("fidelity.ckpt") and "model" not in second
    assert read_image(out / "am_descreened.png").shape == (96, 96, 3)


def test_summary_to_stdout(tmp_path, capsys):
    scan = _scan(tmp_path / "x.png", "fs", size=64)
    assert main(["descreen", str(scan), "-o", str(tmp_path / "out"), "--method", "gaussian", "--summary", "-"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["files"][0]["input"] == str(scan) and report["files"][0]["status"] == "descreened"
    assert not (tmp_path / "out" / "descreen-summary.json").exists() and "summary in" not in captured.err


def test_descreen_preset_gives_the_dpi_and_stands_in_where_no_screen_is_found(tmp_path, capsys):
    from deep_halftoning.halftone.presets import get_preset
    from deep_halftoning.inference import gaussian

    clean = np.clip(cv2.resize(np.random.default_rng(0).random((4, 5, 3), np.float32), (256, 256)), 0.2, 0.8)
    scan = write_image(tmp_path / "news.png", get_preset("newspaper").apply(clean).image)  # no dpi in the file
    photo = _scan(tmp_path / "photo.png", "", dpi=None)
    out = tmp_path / "out"
    batch = ["descreen", str(scan), str(photo), "-o", str(out), "--method", "gaussian"]
    assert main(batch) == 0
    assert "85 lpi" not in capsys.readouterr().err and _summary(out)["files"][1]["status"] == "copied"
    assert main([*batch, "--preset", "newspaper"]) == 0
    lines = _lines(capsys.readouterr().err)
    assert "85 lpi at 45 deg" in lines[0] and "300 dpi" in lines[0]  # the preset's dpi: the file states none
    assert "continuous tone" in lines[1] and "as the newspaper preset's screen (85 lpi, period 3.5 px)" in lines[1]
    news, assumed = _summary(out)["files"]
    assert "assumed_screen" not in news  # the screen found wins
    assert assumed["status"] == "descreened" and assumed["assumed_screen"] == {
        "preset": "newspaper", "lpi": 85.0, "dpi": 300.0, "period": 3.5294, "pages": [1]
    }  # fmt: skip
    expected = gaussian(read_image(photo), sigma=0.45 * 300 / 85)  # sized to the preset's screen
    np.testing.assert_allclose(read_image(out / "photo_descreened.png"), expected, atol=1 / 255)
    assert main(["descreen", str(scan), "-o", str(out), "--preset", "inkjet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--preset inkjet: floyd-steinberg has no screen ruling" in err and "comics, magazine, newspaper" in err
