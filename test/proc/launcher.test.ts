import { describe, expect, it } from 'vitest';
import { diesWithParent, findTool, launchArgv } from '../../src/proc/launcher.js';

describe('launchArgv', () => {
  it('is the command as is when nothing is asked', () => {
    expect(launchArgv('/usr/bin/etcd', ['--name', 'a'])).toEqual({ cmd: '/usr/bin/etcd', args: ['--name', 'a'] });
  });

  it('chains setpriv, prlimit and stdbuf in that order, each exec-ing the next', () => {
    const setpriv = findTool('setpriv');
    const prlimit = findTool('prlimit');
    const stdbuf = findTool('stdbuf');
    expect(setpriv).toBeDefined();
    const r = launchArgv('qemu', ['-S'], { diesWithParent: 'require', coreLimit: 0, lineBufferedStdout: true });
    expect([r.cmd, ...r.args]).toEqual([setpriv, '--pdeathsig', 'KILL', '--', prlimit, '--core=0', '--', stdbuf, '-oL', 'qemu', '-S']);
  });

  it('diesWithParent prefers setpriv', () => {
    const r = diesWithParent('/bin/true', ['x']);
    expect(r.args.slice(0, 3)).toEqual(['--pdeathsig', 'KILL', '--']);
    expect(r.args.slice(-2)).toEqual(['/bin/true', 'x']);
  });

  it('findTool says undefined for a tool that is not there', () => {
    expect(findTool('vmcrypt-no-such-tool')).toBeUndefined();
  });
});
