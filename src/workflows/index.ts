// The workflow bundle's entry: every workflow the worker runs.
export { scaleOut } from './scale-out';
export { scaleIn } from './scale-in';
export { warmPoolFill } from './warm-pool';
export { autoscaler } from './autoscaler';
