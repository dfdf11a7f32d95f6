import { seg } from '../../manager-client/client.js';
import type { VmInfo } from '../../manager-client/records.js';
import { findVm } from '../../manager-client/resolve.js';
import type { Verb } from '../../verbs/verb.js';

function powerVerb(word: 'power-on' | 'power-off', summary: string, examples: readonly string[]): Verb {
  return {
    words: [word],
    summary,
    usage: 'VM',
    examples,
    async run(ctx) {
      const c = await ctx.client();
      const vm = await findVm(c, ctx.arg(0, 'VM'));
      const after = await c.post<VmInfo>(`/api/vms/${seg(vm.id)}/${word}`);
      ctx.emit(after, () => [`VM ${after.name}: ${word === 'power-on' ? 'powered on' : 'powered off'}`]);
      return 0;
    },
  };
}

export const vmPowerOn = powerVerb('power-on', 'Power on a VM (an encrypted VM must be unlocked)', ['vmcrypt vm power-on web-01']);
export const vmPowerOff = powerVerb('power-off', 'Power off a VM', ['vmcrypt vm power-off web-01']);
