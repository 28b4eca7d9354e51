"""gymnasium.make('CartPole-v1') for the ported reinforcement-learning examples (tests/test_ported_scripts.py):
the classic cart-pole (Barto, Sutton and Anderson 1983) with gymnasium's constants and equations, its
reset/step API and spec.reward_threshold (475; GYM_STUB_REWARD_THRESHOLD lowers it so a test stops sooner).
No rendering."""
import math
import os
from types import SimpleNamespace

import numpy as np


class CartPoleEnv:
    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold_radians, x_threshold, max_episode_steps = 12 * 2 * math.pi / 360, 2.4, 500

    def __init__(self, render_mode=None):
        self.spec = SimpleNamespace(id="CartPole-v1", max_episode_steps=500,
                                    reward_threshold=float(os.environ.get("GYM_STUB_REWARD_THRESHOLD", 475.0)))
        self.render_mode = render_mode
        self.np_random = np.random.default_rng()
        self.state, self.steps = None, 0

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        self.state = self.np_random.uniform(-0.05, 0.05, size=(4,))
        self.steps = 0
        return np.array(self.state, dtype=np.float32), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        costheta, sintheta = math.cos(theta), math.sin(theta)
        total_mass, polemass_length = self.masspole + self.masscart, self.masspole * self.length
        temp = (force + polemass_length * theta_dot ** 2 * sintheta) / total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta ** 2 / total_mass))
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * xacc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * thetaacc
        self.state = (x, x_dot, theta, theta_dot)
        self.steps += 1
        terminated = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold_radians)
        truncated = self.steps >= self.max_episode_steps
        return np.array(self.state, dtype=np.float32), 1.0, terminated, truncated, {}

    def render(self):
        return None

    def close(self):
        pass


def make(id, render_mode=None, **kwargs):
    if id != "CartPole-v1":
        raise ValueError(f"this gymnasium stub has CartPole-v1 only, not {id}")
    return CartPoleEnv(render_mode)
