"""`docker buildx bake --print` JSON as a pipeline: entries as current buildx writes them
(objects, util/buildflags) and as older buildx wrote them (strings), read alike."""

from __future__ import annotations

import pytest

from buildorch.pipeline.from_bake import from_bake
from buildorch.pipeline.imported import ConversionError, Imported


def convert(**fields: object) -> tuple[dict[str, object], list[str]]:
    result = from_bake({"target": {"api": {"context": ".", **fields}}}, "p")
    return result.images["api"], result.notes


@pytest.mark.parametrize("secret", [
    {"id": "tok", "env": "TOK"},  # secrets.go Secret's JSON
    "id=tok,env=TOK",
    "type=env,id=tok,src=TOK",  # type=env makes src the variable
    "type=env,id=tok,source=TOK",
])
def test_an_env_secret_in_either_form(secret: object) -> None:
    assert convert(secret=[secret])[0]["secrets"] == [{"id": "tok", "env": "TOK"}]


@pytest.mark.parametrize("secret", [{"id": "key", "src": "k.pem"}, "id=key,src=k.pem",
                                    "id=key,source=k.pem", "type=file,id=key,src=k.pem"])
def test_a_file_secret_in_either_form(secret: object) -> None:
    assert convert(secret=[secret])[0]["secrets"] == [{"id": "key", "src": "k.pem"}]


def test_a_secret_without_a_source_says_what_buildkit_would_read() -> None:
    image, notes = convert(secret=[{"id": "tok"}])
    assert image["secrets"] == [{"id": "tok", "src": "tok"}]
    assert notes == ["api: secret tok gives no src or env: written as src: tok (BuildKit "
                     "would read the variable tok when it is set)"]


def test_a_secret_string_is_one_secret_not_one_per_character() -> None:
    with pytest.raises(ConversionError, match=r"^target\.api\.secret: expected a list$"):
        convert(secret="id=tok,env=TOK")


@pytest.mark.parametrize(("ssh", "expected"), [
    ({"id": "default"}, "default"),
    ({"id": "default", "paths": ["/k"]}, {"id": "default", "paths": ["/k"]}),  # ssh.go SSH
    ("default", "default"),
    ("default=/k", {"id": "default", "paths": ["/k"]}),
    ("gh=/a,/b", {"id": "gh", "paths": ["/a", "/b"]}),
])
def test_ssh_in_either_form(ssh: object, expected: object) -> None:
    assert convert(ssh=[ssh])[0]["ssh"] == [expected]


@pytest.mark.parametrize(("attest", "expected"), [
    ({"type": "provenance", "mode": "max"}, "type=provenance,mode=max"),  # attests.go
    ({"type": "sbom", "disabled": True}, "type=sbom,disabled=true"),
    ("type=provenance,mode=max", "type=provenance,mode=max"),
    ("type=sbom,disabled=1", "type=sbom,disabled=true"),
])
def test_attest_in_either_form(attest: object, expected: str) -> None:
    assert convert(attest=[attest])[0]["attest"] == [expected]


def test_an_attestation_type_buildorch_does_not_take_is_a_note() -> None:
    image, notes = convert(attest=[{"type": "vex"}])
    assert "attest" not in image
    assert notes == ["api: attest type=vex left out (a type buildorch does not take; known: "
                     "sbom, provenance)"]


@pytest.mark.parametrize(("output", "expected"), [
    ({"type": "local", "dest": "out"}, "type=local,dest=out"),  # export.go, flattened
    ({"type": "docker"}, "type=docker"),
    ({"type": "tar", "dest": "a,b.tar"}, 'type=tar,"dest=a,b.tar"'),
    ({"type": "image", "compression": "zstd"}, "type=image,compression=zstd"),
    ("type=local,dest=out", "type=local,dest=out"),
    ("out", "type=local,dest=out"),  # a bare folder is a local export
    ("-", "type=tar,dest=-"),
])
def test_outputs_in_either_form(output: object, expected: str) -> None:
    assert convert(output=[output])[0]["outputs"] == [expected]


@pytest.mark.parametrize("output", [{"type": "registry"}, "type=registry",
                                    {"type": "image", "push": "true"}, "type=image,push=true",
                                    "type=image,push=T"])
def test_an_output_that_pushes_is_push_true_with_a_note(output: object) -> None:
    image, notes = convert(output=[output], tags=["r/api:1"])
    assert image["push"] is True and image["tags"] == ["r/api:1"] and "outputs" not in image
    assert len(notes) == 1 and "is `push: true` (tags are published once every image" in notes[0]


def test_a_registry_outputs_names_are_tags_and_its_other_attributes_kept() -> None:
    image, notes = convert(output=[{"type": "registry", "name": "r/a:1,r/a:2",
                                    "compression": "zstd", "push-by-digest": "true"}],
                           tags=["r/a:1"])
    assert image["tags"] == ["r/a:1", "r/a:2"] and image["push"] is True
    assert image["outputs"] == ["type=image,compression=zstd"]
    assert notes[1:] == ["api: output type=registry name= is in `tags`",
                         "api: output type=registry push-by-digest=true left out (names come "
                         "from `tags`, pushing from `push`)"]


@pytest.mark.parametrize("push", ["false", "tRuE"])  # tRuE: not Go's strconv.ParseBool
def test_an_image_output_that_does_not_push_says_its_push_is_left_out(push: str) -> None:
    image, notes = convert(output=[{"type": "image", "push": push, "compression": "zstd"}])
    assert "push" not in image and image["outputs"] == ["type=image,compression=zstd"]
    assert notes == [f"api: output type=image push={push} left out (names come from `tags`, "
                     "pushing from `push`)"]


def test_an_output_type_buildorch_cannot_take_is_a_note_not_a_field() -> None:
    image, notes = convert(output=[{"type": "moby"}])
    assert "outputs" not in image
    assert notes == ["api: output type=moby left out (a type buildorch does not export; known: "
                     "local, tar, oci, docker, image, cacheonly, registry)"]


def test_cache_entries_as_objects_are_a_note() -> None:
    _, notes = convert(**{"cache-from": [{"type": "gha"}], "cache-to": ["type=inline"]})
    assert notes == ["api: cache-from left out (use a cache profile, cache: NAME)",
                     "api: cache-to left out (use a cache profile, cache: NAME)"]


def test_a_target_that_is_not_a_mapping_is_a_note() -> None:
    result = from_bake({"target": {"api": {"context": "."}, "bad": ["x"]}}, "p")
    assert set(result.images) == {"api"}
    assert result.notes == ["bad: the target left out (a target is a mapping of fields, not "
                            "list \"['x']\")"]


@pytest.mark.parametrize("data", [{"target": {"a": "x"}}, {"target": {"a": None, "b": 1}}])
def test_no_usable_target_is_an_error(data: dict[str, object]) -> None:
    with pytest.raises(ConversionError, match="no target is a mapping of fields"):
        from_bake(data, "p")


@pytest.mark.parametrize(("fields", "message"), [
    ({"secret": [{"env": "X"}]}, r"target\.api\.secret\[0\]: a secret needs an id"),
    ({"secret": ["id=a,mode=0400"]}, r"target\.api\.secret\[0\]: unexpected key 'mode'"),
    ({"ssh": [{"id": "x", "paths": "/k"}]}, r"target\.api\.ssh\[0\]\.paths: expected a list"),
    ({"output": [{"dest": "out"}]}, r"target\.api\.output\[0\]: an output has no type"),
    ({"output": [{"type": "local", "dest": 1}]}, r"target\.api\.output\[0\]\.dest: expected"),
    ({"attest": [{"type": "sbom", "disabled": "maybe"}]},
     r"target\.api\.attest\[0\]\.disabled: 'maybe' is not true or false"),
])
def test_an_entry_buildx_would_refuse_is_an_error_that_names_it(
        fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(**fields)


def test_notes_are_kept_in_order() -> None:
    result = Imported("p")
    result.note("a", "x", "why")
    result.tell("a", "did y")
    assert result.notes == ["a: x left out (why)", "a: did y"]


def test_a_null_arg_or_label_is_left_out_as_bake_leaves_it_unset() -> None:
    image, notes = convert(args={"A": "1", "B": None}, labels={"l": None})
    assert image["args"] == {"A": "1"} and image["labels"] == {}
    assert notes == ["api: args.B left out (null: bake leaves it unset)",
                     "api: labels.l left out (null: bake leaves it unset)"]


def test_an_annotation_without_a_value_is_an_error() -> None:
    with pytest.raises(ConversionError, match=r"target\.api\.annotations\[1\]: annotation 'b'"):
        convert(annotations=["a=1", "b"])


def test_targets_whose_names_clean_alike_are_both_kept() -> None:
    result = from_bake({"target": {"a b": {"context": "x"}, "a-b": {"context": "y"},
                                   "c": {"contexts": {"p": "target:a b"}}},
                        "group": {"default": {"targets": ["a b", "a-b"]}}}, "p")
    assert {k: v["context"] for k, v in result.images.items()} == {
        "a-b-2": "x", "a-b": "y", "c": "."}
    assert result.images["c"]["contexts"] == {"p": {"image": "a-b-2"}}
    assert result.groups == {"default": ["a-b-2", "a-b"]}
    assert result.notes == ["a-b-2: the target 'a b' is the image a-b-2 (a-b is the target "
                            "'a-b')"]


def test_a_group_that_cannot_be_kept_is_a_note() -> None:
    result = from_bake({"target": {"api": {}}, "group": {"api": {"targets": ["api"]},
                                                         "all": {"targets": "api"}}}, "p")
    assert result.groups == {}
    assert result.notes == ["api: the group left out (an image or group has its name)",
                            "all: the group left out (no list of targets)"]
