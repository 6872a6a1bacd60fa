"""Lesson 4, exercise 2: add AdaBelief the way rt-optim adds an optimizer.

AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
Gradients", NeurIPS 2020, Algorithm 2, https://arxiv.org/abs/2010.07468) is Adam with the
squared gradient replaced by the squared distance between the gradient and its running
mean. Per parameter, at step t (1, 2, ...), with g the gradient, m and s starting at zero:

    m <- beta1 * m + (1 - beta1) * g
    s <- beta2 * s + (1 - beta2) * (g - m)**2 + eps
    param <- param - lr * (m / (1 - beta1**t)) / (sqrt(s / (1 - beta2**t)) + eps)

(``eps`` enters twice, and ``s`` keeps the ``eps`` added each step, as in the authors'
implementation, adabelief-pytorch.)

Write the two halves rt-optim writes (docs/adding-an-optimizer.md; ``rt_optim/sgd.py`` is
the model):

- ``adabelief_reference(params, grads, exp_avgs, exp_avg_vars, steps, *, lr, beta1, beta2,
  eps)``: the update above, in place, for each parameter of the lists (``steps[i]`` is the
  step number t of parameter i, an int, already counting this step);
- ``AdaBelief(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16)``: a subclass of
  ``rt_optim.Optimizer`` with those defaults (keys ``lr``, ``betas``, ``eps``), whose
  ``_init_state`` creates ``state["step"] = 0``, ``state["exp_avg"]`` and
  ``state["exp_avg_var"]`` (zeros like the parameter), and whose ``_update_group`` counts
  the step and calls ``adabelief_reference`` with the group's hyper-parameters.

Check it:  python docs/course/_runner.py check 4
"""
import rt_autograd as rt
import rt_optim


def adabelief_reference(params, grads, exp_avgs, exp_avg_vars, steps, *, lr, beta1, beta2,
                        eps):
    raise NotImplementedError("exercise: write adabelief_reference and AdaBelief")


class AdaBelief(rt_optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16):
        raise NotImplementedError("exercise: write adabelief_reference and AdaBelief")

    def _init_state(self, group, param, state):
        raise NotImplementedError("exercise: write adabelief_reference and AdaBelief")

    def _update_group(self, group, params, grads, states):
        raise NotImplementedError("exercise: write adabelief_reference and AdaBelief")
