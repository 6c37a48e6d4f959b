export { lstmSequence, gruSequence, simpleSequence, type RecurrentOpResult, type RecurrentOpOptions } from './ops.js';
export {
  lstmForward,
  lstmBackward,
  gruForward,
  gruBackward,
  simpleForward,
  simpleBackward,
  gemmF32,
  type RecurrentActivation,
  type SimpleActivation,
  type SequenceShape,
  type ForwardResult,
  type SavedActivations,
  type OutputGradients,
  type InputGradients,
  type LstmForwardArgs,
  type LstmBackwardArgs,
  type GruForwardArgs,
  type GruBackwardArgs,
  type SimpleForwardArgs,
  type SimpleBackwardArgs,
} from './sequence.js';
export { RecurrentRuntime, recurrentRuntime, recurrentKernelsAvailable, recurrentModule, type RecurrentExports, type WasmMemory, type WasmModule } from './runtime.js';
