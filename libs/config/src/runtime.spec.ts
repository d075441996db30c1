import { checkNodeRuntime, LTS_MAJOR } from './runtime.js';

describe('checkNodeRuntime', () => {
  it('says once what to do on a Node.js past its end of life, and quiets dependency notices about it', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(checkNodeRuntime('v20.20.2', env)).toBe(
      `Node.js v20.20.2 is past its end of life: Plexus runs on it, but install Node.js ${LTS_MAJOR} (the current LTS) for security fixes.`,
    );
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
  });

  it('leaves a maintained Node.js and an explicit setting alone', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(checkNodeRuntime('v24.22.3', env)).toBeUndefined();
    expect(checkNodeRuntime('v22.1.0', env)).toBeUndefined();
    expect(env).toEqual({});
    const set: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    checkNodeRuntime('v20.1.0', set);
    expect(set.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('false');
  });
});
