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
