"""The config of the tiny model the tests of skxrd.pretrained and the CLI train."""

TINY = {
    "target": "crystal_system",
    "data": {"n_crystals": 60, "n_atoms": [2, 12], "random_state": 0},
    "test": {"n_crystals": 20, "n_atoms": [2, 12], "random_state": 1},
    "simulator": {"two_theta_range": [10.0, 40.0], "two_theta_step": 0.1},
    "classifier": {
        "type": "ResNetClassifier",
        "depth": 1,
        "width": 4,
        "max_epochs": 2,
        "augment": "default",
        "num_threads": 1,
        "random_state": 0,
    },
}


def to_toml(cfg):
    """The TOML text of a config dict (plain values, one level of tables)."""
    lines, tables = [], []
    for key, value in cfg.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_value(value)}")
    for name, table in tables:
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)
