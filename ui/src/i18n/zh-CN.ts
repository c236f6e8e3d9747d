// Chinese (default). en.ts must have exactly the same keys (checked by the type).
// Keys under `elder` replace the normal wording when elder mode is on.
const zhCN = {
  app: {
    title: '警通',
    subtitle: '公安便民服务，一站办理',
  },
  common: {
    errorCode: '错误代码: {code}',
    retry: '重试',
    back: '返回',
    comingSoon: '该服务即将开放，敬请期待',
    genericError: '操作没有成功，请稍后重试',
  },
  offline: {
    title: '网络不可用，请检查网络后重试',
    kept: '您已填写的内容会保留',
  },
  signIn: {
    phoneLabel: '手机号',
    phonePlaceholder: '请输入11位手机号',
    codeLabel: '验证码',
    codePlaceholder: '请输入6位验证码',
    sendCode: '获取验证码',
    resendIn: '{n} 秒后重发',
    codeSent: '验证码已发送，{min} 分钟内有效',
    submit: '登录',
    privacyPrefix: '登录即表示您已阅读',
    privacyLink: '《个人信息保护说明》',
    otherLang: 'English',
  },
  facePrompt: {
    title: '建议完成刷脸认证',
    body: '办理身份证、临时身份证等业务前，需要确认是您本人在操作。刷脸认证约需 1 分钟。我们只保留认证结果（是否通过、认证时间）；人脸图像加密传输，比对完成后即删除。',
    start: '去认证',
    later: '以后再说',
  },
  home: {
    greeting: '您好',
    search: '搜索服务，如“身份证”',
    attention: '待办事项',
    attentionEmpty: '暂无待办事项',
    services: '全部服务',
    noMatch: '没有找到“{q}”相关的服务',
    noMatchHint: '换个词试试，例如“身份证”',
  },
  services: {
    face: '刷脸认证',
    'id-card': '居民身份证',
    'temp-id': '临时身份证',
    'vehicle-move': '一键挪车',
    'scan-pay': '扫码缴费',
    progress: '我的进度',
    'case-lookup': '案件查询',
  },
  tabs: {
    home: '首页',
    me: '我的',
  },
  me: {
    phone: '手机号',
    verification: '认证状态',
    levelNone: '未实名认证',
    levelRealName: '已实名认证',
    language: '语言',
    languageValue: '中文',
    elder: '适老化（大字模式）',
    elderHint: '字更大、按钮更大、说法更简单',
    signOut: '退出登录',
    about: '关于',
    version: '版本',
    server: '服务器地址',
  },
  privacy: {
    title: '个人信息保护说明',
    collectTitle: '我们收集什么',
    collectBody: '现在：您的手机号，用于登录和接收验证码。以后，当您办理需要核实身份的业务时：身份证信息和人脸图像，用于确认是您本人。',
    whyTitle: '为什么收集',
    whyBody: '只用于登录和办理您申请的公安便民业务，不用于广告。',
    keepTitle: '保存多久',
    keepBody: '手机号保存到您注销账号为止。人脸图像只用于当次比对，比对后删除，只保留认证结果和时间。业务记录按法律规定的期限保存。',
    protectTitle: '如何保护',
    protectBody: '信息在传输和存储时都经过加密。登录凭据保存在手机系统的安全存储中，不写入普通文件。',
    rightsTitle: '您的权利',
    rightsBody: '您可以随时退出登录，也可以联系我们查询、更正或删除您的个人信息。',
  },
  elder: {
    app: { subtitle: '用手机号登录' },
    signIn: {
      phonePlaceholder: '填手机号',
      codePlaceholder: '填短信里的6位数字',
      sendCode: '发验证码',
    },
    facePrompt: {
      body: '办身份证前，要先刷脸确认是您本人，大约 1 分钟。照片用完就删，只记下“已认证”。',
    },
    home: { search: '找服务' },
  },
}

export type Messages = typeof zhCN
export default zhCN
