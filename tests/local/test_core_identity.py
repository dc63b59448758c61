"""Instances, API keys, usage limits and backends of the local runtime core."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_qrt.local.core import DataDirBusyError, LocalRuntime, ServiceError

from .core_helpers import SMALL_DEVICE, cheap_body

CRN_SHAPE = re.compile(r"crn:v1:bluemix:public:quantum-computing:local:a/[0-9a-f]+:[0-9a-f]+::")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    # Identity needs no workers: open the database only.
    core = LocalRuntime(tmp_path / "data")
    core.start(run_jobs=False)
    yield core
    core.stop()


def test_a_default_instance_and_key_exist_out_of_the_box(runtime: LocalRuntime) -> None:
    instance = runtime.default_instance
    assert CRN_SHAPE.fullmatch(instance.crn)
    info = runtime.verify_api_key(runtime.default_key)
    assert info is not None
    assert info.instance_crn == instance.crn
    assert [i.crn for i in runtime.list_instances()] == [instance.crn]


def test_the_default_key_is_kept_in_a_private_file_and_never_in_the_database(
    runtime: LocalRuntime,
) -> None:
    key_file = runtime.data_dir / "default-key"
    assert key_file.read_text().strip() == runtime.default_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = runtime.default_key.split("_", 2)[2]  # qrt_<key id>_<secret>; "_" may be in it
    for path in runtime.data_dir.iterdir():
        if path.name != "default-key":
            assert secret.encode() not in path.read_bytes(), path


def test_instances_and_keys_survive_a_restart(tmp_path: Path) -> None:
    first = LocalRuntime(tmp_path)
    first.start(run_jobs=False)
    course = first.create_instance("physics-101", plan="premium", usage_limit_seconds=600)
    key = first.create_key(course.crn, "alice")
    default_key = first.default_key
    first.stop()

    second = LocalRuntime(tmp_path)
    second.start(run_jobs=False)
    try:
        assert second.default_key == default_key
        assert second.instance(course.crn) == course
        info = second.verify_api_key(key)
        assert info is not None
        assert info.instance_crn == course.crn
        assert info.user_id == "alice"
    finally:
        second.stop()


def test_a_lost_default_key_file_gets_a_new_default_key(tmp_path: Path) -> None:
    first = LocalRuntime(tmp_path)
    first.start(run_jobs=False)
    old = first.default_key
    first.stop()
    (tmp_path / "default-key").unlink()
    second = LocalRuntime(tmp_path)
    second.start(run_jobs=False)
    try:
        assert second.default_key != old
        assert second.verify_api_key(old) is None
        assert second.verify_api_key(second.default_key) is not None
    finally:
        second.stop()


def test_wrong_malformed_and_revoked_keys_are_rejected(runtime: LocalRuntime) -> None:
    key = runtime.create_key(runtime.default_instance.crn, "bob")
    assert runtime.verify_api_key(key) is not None
    assert runtime.verify_api_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert runtime.verify_api_key("not-a-key") is None
    assert runtime.verify_api_key("") is None
    runtime.revoke_key("bob")
    assert runtime.verify_api_key(key) is None
    assert [k.name for k in runtime.list_keys()] == ["default"]
    with pytest.raises(ServiceError) as unknown:
        runtime.revoke_key("bob")
    assert unknown.value.status == 404


def test_a_key_is_revoked_by_the_key_itself_and_never_repeated_back(
    runtime: LocalRuntime,
) -> None:
    key = runtime.create_key(runtime.default_instance.crn, "dave")
    secret = key.split("_", 2)[2]
    runtime.revoke_key(key)
    assert runtime.verify_api_key(key) is None
    assert "dave" not in [k.name for k in runtime.list_keys()]
    with pytest.raises(ServiceError) as gone:
        runtime.revoke_key(key)  # the same key again: unknown now
    assert gone.value.status == 404
    assert secret not in gone.value.message
    assert "..." + secret[-4:] in gone.value.message
    assert key.split("_", 2)[1] in gone.value.message  # the key id, which is no secret
    # A name of the shape of a key is still a name.
    runtime.create_key(runtime.default_instance.crn, "qrt_lab_one")
    runtime.revoke_key("qrt_lab_one")
    assert [k.name for k in runtime.list_keys()] == ["default"]


def test_the_default_key_cannot_be_revoked(runtime: LocalRuntime) -> None:
    with pytest.raises(ServiceError) as refused:
        runtime.revoke_key("default")
    assert refused.value.status == 409
    assert runtime.verify_api_key(runtime.default_key) is not None


def test_names_of_instances_and_keys_are_unique(runtime: LocalRuntime) -> None:
    runtime.create_instance("lab")
    with pytest.raises(ServiceError) as taken:
        runtime.create_instance("lab")
    assert taken.value.status == 409
    with pytest.raises(ServiceError) as key_taken:
        runtime.create_key(runtime.default_instance.crn, "default")
    assert key_taken.value.status == 409


def test_an_unknown_instance_is_a_404_everywhere(runtime: LocalRuntime) -> None:
    ghost = "crn:v1:bluemix:public:quantum-computing:local:a/0:0::"
    for call in (
        lambda: runtime.instance(ghost),
        lambda: runtime.usage(ghost),
        lambda: runtime.backends(ghost),
        lambda: runtime.create_key(ghost, "x"),
        lambda: runtime.set_usage_limit(ghost, 1),
    ):
        with pytest.raises(ServiceError) as missing:
            call()
        assert missing.value.status == 404


def test_usage_shows_the_limit_only_when_there_is_one(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    unlimited = runtime.usage(crn)
    assert unlimited["usage_consumed_seconds"] == 0
    assert unlimited["usage_limit_reached"] is False
    assert "usage_limit_seconds" not in unlimited
    runtime.set_usage_limit(crn, 120)
    limited = runtime.usage(crn)
    assert limited["usage_limit_seconds"] == 120
    assert limited["usage_remaining_seconds"] == 120
    assert limited["instance_id"] == crn


def test_a_job_over_the_usage_limit_is_refused_with_403(runtime: LocalRuntime) -> None:
    course = runtime.create_instance("course", usage_limit_seconds=0)
    with pytest.raises(ServiceError) as refused:
        runtime.create_job(course.crn, "alice", cheap_body())
    assert refused.value.status == 403
    assert refused.value.code == 1403
    assert "usage limit" in refused.value.message
    assert "raise" in refused.value.message.lower()
    assert runtime.jobs(course.crn)["count"] == 0
    runtime.set_usage_limit(course.crn, None)
    assert runtime.create_job(course.crn, "alice", cheap_body())["backend"] == SMALL_DEVICE


def test_bad_limits_and_names_are_400(runtime: LocalRuntime) -> None:
    for call in (
        lambda: runtime.create_instance(""),
        lambda: runtime.create_instance("x", usage_limit_seconds=-1),
        lambda: runtime.set_usage_limit(runtime.default_instance.crn, "ten"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ServiceError) as bad:
            call()
        assert bad.value.status == 400


def test_backends_list_every_device_with_its_queue(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    devices = {d["name"]: d for d in runtime.backends(crn)["devices"]}
    assert SMALL_DEVICE in devices
    assert devices[SMALL_DEVICE]["qubits"] == 5
    assert devices[SMALL_DEVICE]["status"]["name"] == "online"
    assert any(d["is_simulator"] for d in devices.values())
    runtime.create_job(crn, "me", cheap_body())
    assert runtime.backend_status(crn, SMALL_DEVICE)["length_queue"] == 1
    devices = {d["name"]: d for d in runtime.backends(crn)["devices"]}
    assert devices[SMALL_DEVICE]["queue_length"] == 1
    configuration = runtime.backend_configuration(crn, SMALL_DEVICE)
    assert configuration["n_qubits"] == 5
    assert "online_date" in configuration
    assert runtime.backend_properties(crn, SMALL_DEVICE)["qubits"]
    assert runtime.backend_properties(crn, "qrt_ideal_simulator") is None


def test_an_unknown_backend_is_a_404_that_lists_the_real_ones(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    with pytest.raises(ServiceError) as missing:
        runtime.backend_status(crn, "ibm_nowhere")
    assert missing.value.status == 404
    assert SMALL_DEVICE in missing.value.message
    with pytest.raises(ServiceError) as job_missing:
        runtime.create_job(crn, "me", cheap_body("ibm_nowhere"))
    assert job_missing.value.status == 404


def test_only_one_service_runs_the_jobs_of_a_data_dir(tmp_path: Path) -> None:
    first = LocalRuntime(tmp_path, workers=1)
    first.start()
    try:
        second = LocalRuntime(tmp_path, workers=1)
        with pytest.raises(DataDirBusyError, match="Another jupyter-qrt service"):
            second.start()
        second.start(run_jobs=False)  # management commands next to a running service
        assert second.default_key == first.default_key
        second.stop()
    finally:
        first.stop()


def test_a_key_revoked_from_another_process_stops_working_at_once(tmp_path: Path) -> None:
    service = LocalRuntime(tmp_path)
    service.start(run_jobs=False)
    try:
        key = service.create_key(service.default_instance.crn, "carol")
        assert service.verify_api_key(key) is not None  # now cached
        command_line = LocalRuntime(tmp_path)
        command_line.start(run_jobs=False)
        command_line.revoke_key("carol")
        command_line.stop()
        assert service.verify_api_key(key) is None
    finally:
        service.stop()
