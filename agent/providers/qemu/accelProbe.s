# The guest `auto` runs under KVM and TCG before it picks one (accel.ts embeds its 512 bytes;
# a unit test assembles this file again and compares). A boot sector: from real mode through
# protected mode into 64-bit long mode, then one write to each 4 KiB page from 2 to 64 MiB, then
# PROBE_VALUE to QEMU's isa-debug-exit port. A host whose KVM cannot page a guest quickly (nested
# virtualization without hardware paging) takes seconds here where emulation takes milliseconds.
#   as --64 -o p.o accelProbe.s && ld -m elf_x86_64 -Ttext=0x7c00 --oformat binary -o p.bin p.o
.code16
.globl _start
_start:
  cli
  xor %ax,%ax
  mov %ax,%ds
  lgdt gdtr
  mov %cr0,%eax
  or $1,%eax                # protected mode
  mov %eax,%cr0
  ljmp $0x08,$pm32
.code32
pm32:
  mov $0x10,%ax
  mov %ax,%ds
  mov %ax,%es
  mov %ax,%ss
  mov $0x1000,%edi          # page tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD)
  xor %eax,%eax
  mov $0xc00,%ecx
  rep stosl
  movl $0x2003,0x1000
  movl $0x3003,0x2000
  mov $0x3000,%edi          # the first GiB, identity-mapped in 2 MiB pages
  mov $0x83,%eax
  mov $512,%ecx
1:
  mov %eax,(%edi)
  add $8,%edi
  add $0x200000,%eax
  loop 1b
  mov $0x1000,%eax
  mov %eax,%cr3
  mov %cr4,%eax
  or $0x20,%eax             # PAE
  mov %eax,%cr4
  mov $0xc0000080,%ecx      # EFER.LME
  rdmsr
  or $0x100,%eax
  wrmsr
  mov %cr0,%eax
  or $0x80000000,%eax       # paging: long mode
  mov %eax,%cr0
  ljmp $0x18,$lm64
.code64
lm64:
  mov $0x200000,%rdi
2:
  movb $1,(%rdi)
  add $0x1000,%rdi
  cmp $0x4000000,%rdi
  jb 2b
  mov $0x2a,%al             # PROBE_VALUE
  out %al,$0xf4
3:
  hlt
  jmp 3b
.align 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff  # 0x08: 32-bit code
  .quad 0x00cf92000000ffff  # 0x10: data
  .quad 0x00af9a000000ffff  # 0x18: 64-bit code
gdtr:
  .word gdtr - gdt - 1
  .long gdt
.org 510
  .word 0xaa55
