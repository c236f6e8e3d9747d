//! The failure-code catalogue: every code the API or the app can return, with its HTTP status,
//! what a citizen reads (zh-CN and English), the cause and what to do. `docs/error-codes.md` is
//! generated from this table and checked current by a test.

use serde::{Deserialize, Serialize};

use crate::Lang;

macro_rules! catalogue {
    ($( $variant:ident = $code:literal, $status:literal, $zh:literal, $en:literal, $cause:literal, $action:literal; )*) => {
        /// A stable, snake_case error code. Clients switch on this, never on message text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// HTTP status on the API; local codes that never cross HTTP use 0.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::ZhCn) => $zh, (ErrorCode::$variant, Lang::En) => $en, )*
                }
            }

            pub fn cause(self) -> &'static str {
                match self { $( ErrorCode::$variant => $cause, )* }
            }

            pub fn action(self) -> &'static str {
                match self { $( ErrorCode::$variant => $action, )* }
            }
        }
    };
}

catalogue! {
    InvalidRequest = "invalid_request", 400,
        "请求内容有误，请检查后重试。", "The request could not be read. Please check and try again.",
        "The body is not valid JSON or misses a required field.", "Update the app; if it persists, contact support with the code.";
    InvalidPage = "invalid_page", 400,
        "列表翻页参数有误，请返回列表顶部重新加载。", "This list could not be paged. Go back to the top of the list and load it again.",
        "`limit` is not a whole number from 1 to 100, or `cursor` was not made by the server for this list (changed, cut short or from another list).", "Reload the list from the start; apps pass `next_cursor` back unchanged and ask for at most 100 rows.";
    PhoneInvalid = "phone_invalid", 400,
        "请输入正确的11位中国大陆手机号码。", "Enter a valid 11-digit mainland China mobile number.",
        "The phone number is not 11 digits starting with 13–19.", "Check the number and type it again.";
    IdNumberInvalid = "id_number_invalid", 400,
        "身份证号码有误，请核对后重新输入。", "The resident ID number is not valid. Please check it.",
        "Wrong length, unknown region, impossible birth date or wrong check digit.", "Copy the 18 characters exactly from the card; X is the last character only.";
    PlateInvalid = "plate_invalid", 400,
        "车牌号码格式有误，请核对后重新输入。", "The licence plate is not valid. Please check it.",
        "Not a GA 36 plate: province, letter, 5 or 6 characters, no I or O.", "Choose the province first, then type the letters and digits on the plate.";
    PlateTypeMismatch = "plate_type_mismatch", 400,
        "车牌号码与所选号牌种类不符，请核对。", "The plate does not match the plate type you chose. Please check both.",
        "New-energy plates have 8 characters; special plates end in 学, 挂, 警, 领, 港/澳, 试 or 超; embassy plates start with 使.", "Choose the type by the plate's colour and size, or correct the characters.";
    PlateNotRegistered = "plate_not_registered", 422,
        "未查询到该车辆的登记信息，无法通知车主。您可以直接请求交警处理。", "This plate is not in the vehicle registry, so its owner cannot be told. You can ask the traffic police directly.",
        "The vehicle registry has no vehicle with this plate (a typo, a plate from elsewhere, or a fake plate).", "Check the plate; if it is right, send the request to the traffic police on duty instead.";
    MovePhotosInvalid = "move_photos_invalid", 400,
        "请上传2至3张现场照片（车辆、号牌和阻挡情况）。", "Add 2 to 3 photos of the scene (the car, its plate and the obstruction).",
        "Fewer than 2 or more than 3 photos, or a photo that is not a JPEG of at most 400 KB.", "Take the photos with the app; it compresses them before sending.";
    MoveMonthlyLimit = "move_monthly_limit", 429,
        "本月挪车请求次数已用完（每月5次），下月1日恢复。紧急情况请拨打110或122。", "You have used this month's vehicle-moving requests (5 per month). They renew on the 1st. In an emergency call 110 or 122.",
        "The requester filed the monthly number of requests in the rules data this calendar month (Asia/Shanghai).", "Wait until next month, or call 122 (traffic police) for help now.";
    MoveOpenExists = "move_open_exists", 409,
        "该车辆已有正在处理的挪车请求，请稍候。", "A request to move this vehicle is already being handled. Please wait.",
        "One open request per plate at a time (rules data); someone else or you asked already.", "Wait for the owner or the traffic police; you will see the result if it is your request.";
    MoveSuspended = "move_suspended", 403,
        "因多次恶意挪车请求，您的挪车服务已被暂停。", "Your vehicle-moving service is suspended after repeated malicious requests.",
        "Three requests were confirmed malicious by the traffic police; the service is suspended for one year from the last.", "Call 122 if you are blocked in; ask a police service window if you think this is wrong.";
    MoveStateConflict = "move_state_conflict", 409,
        "该挪车请求的状态已变化，请刷新后查看。", "This request has changed. Refresh to see where it stands.",
        "The action does not fit the request's state (already answered, resolved, reminded, or not yet time to remind).", "Refresh the request and do what it offers now.";
    MessageContainsNumber = "message_contains_number", 400,
        "为保护双方隐私，留言中不能包含电话号码等长串数字。", "To protect both sides' privacy, messages cannot contain phone numbers or long digit strings.",
        "Text relayed to the other party holds 7 or more digits (full-width digits and Chinese numerals count, separators between them are ignored, a date is not counted).", "Write the message without numbers; the app relays it.";
    SmsCodeInvalid = "sms_code_invalid", 400,
        "验证码不正确，请重新输入。", "The verification code is wrong. Please try again.",
        "The 6-digit code does not match the one sent, or no code was requested.", "Type the newest code from the SMS; 5 wrong tries lock the number for 15 minutes.";
    SmsCodeExpired = "sms_code_expired", 400,
        "验证码已过期，请重新获取。", "The verification code has expired. Request a new one.",
        "Codes are valid for 5 minutes and only once.", "Tap “Get code” again.";
    PhoneLocked = "phone_locked", 423,
        "验证码错误次数过多，该号码已暂时锁定，请15分钟后再试。", "Too many wrong codes. This number is locked for 15 minutes.",
        "5 wrong codes in a row lock the number to stop guessing.", "Wait 15 minutes, then request a new code.";
    RateLimited = "rate_limited", 429,
        "操作过于频繁，请稍后再试。", "Too many requests. Please wait a moment and try again.",
        "A per-action limit was reached (for example one SMS per 60 seconds).", "Wait for the time shown, then try again.";
    Unauthorized = "unauthorized", 401,
        "登录已失效，请重新登录。", "Your session has ended. Please sign in again.",
        "The access token is missing, expired or revoked.", "Sign in again with your phone number.";
    RefreshTokenInvalid = "refresh_token_invalid", 401,
        "登录已失效，请重新登录。", "Your session has ended. Please sign in again.",
        "The refresh token was used already, revoked, or expired.", "Sign in again with your phone number.";
    Forbidden = "forbidden", 403,
        "您没有权限办理此项业务。", "You are not allowed to do this.",
        "The account's role or verification level does not allow the action.", "Complete face verification, or use the right account.";
    NotFound = "not_found", 404,
        "未找到相关内容。", "Nothing was found.",
        "The object does not exist, or it is not yours.", "Check the number you entered.";
    IdempotencyKeyReused = "idempotency_key_reused", 422,
        "该请求编号已用于其他内容，请重新提交。", "This request ID was already used for something else.",
        "The same Idempotency-Key came with a different body.", "Submit again; the app makes a new key.";
    PayloadTooLarge = "payload_too_large", 413,
        "上传的内容过大。", "The upload is too large.",
        "The request body is over the limit.", "Use a smaller photo.";
    Internal = "internal", 500,
        "系统繁忙，请稍后再试。", "Something went wrong on our side. Please try again later.",
        "An unexpected server fault; details are in the server log, not in the response.", "Try again later; if it persists, contact support with the code.";
    ServiceUnavailable = "service_unavailable", 503,
        "服务暂时不可用，请稍后再试。", "The service is temporarily unavailable. Please try later.",
        "The database or an upstream government system is unreachable.", "Try again in a few minutes.";
    NameInvalid = "name_invalid", 400,
        "请输入身份证上的姓名（2至30个字）。", "Enter your name as on your ID card (2 to 30 characters).",
        "The name is empty, shorter than 2 or longer than 30 characters.", "Type the name exactly as printed on the resident ID card.";
    IdentityNotFound = "identity_not_found", 404,
        "姓名与身份证号码不匹配，请核对后重试。", "The name and ID number do not match our records. Please check them.",
        "The population registry has no person with this name and ID number (which one is wrong is not told).", "Check both against your ID card; if they are right, visit a police service window.";
    IdentityBoundElsewhere = "identity_bound_elsewhere", 409,
        "该身份证号码已在另一个账户完成实名认证。", "This ID number is already verified on another account.",
        "One person has one verified account; another phone number already proved this identity.", "Sign in with the phone number you used before; if you no longer have it, visit a police service window to move the verification.";
    IdPhotoNotFrontal = "id_photo_not_frontal", 422,
        "证件照须正面免冠，请正对镜头重新拍摄。", "An ID photo must be taken from the front. Face the camera and take it again.",
        "The head is turned more than the ID-photo standard allows.", "Look straight into the camera, shoulders level, and take the photo again.";
    IdPhotoTooSmall = "id_photo_too_small", 422,
        "照片中的人脸太小或清晰度不够，请靠近一些重新拍摄。", "The face is too small or not sharp enough. Come closer and take it again.",
        "Scaling the face to the standard width would enlarge the photo too much (it would be blurred).", "Take the photo from about one metre so the head fills the upper half of the picture.";
    IdPhotoTooTight = "id_photo_too_tight", 422,
        "头部离照片边缘太近，请在头顶和两侧留出空间重新拍摄。", "The head is too close to the edge. Leave space above and beside the head.",
        "The standard crop around the head reaches beyond the picture.", "Step back a little and keep the whole head and shoulders in the picture with space around them.";
    IdPhotoBackground = "id_photo_background", 422,
        "背景须为纯色浅色，请在白色或浅色墙前重新拍摄。", "The background must be plain and light. Stand in front of a white or light wall.",
        "The areas beside and above the head are not even and light.", "Stand half a metre in front of a plain white or light-blue wall, away from shadows, or have the photo taken at a station.";
    IdPhotoInvalid = "id_photo_invalid", 422,
        "证件照文件有误，请重新拍摄或选择照片。", "The ID photo file is not usable. Take or choose the photo again.",
        "The upload is not a 358×441 JPEG of at most 60 KB, as the app's photo check makes it.", "Go back to the photo step and let the app check the photo again.";
    IdPhotoNoFace = "id_photo_no_face", 422,
        "证件照中未检测到人脸，请重新拍摄本人正面照片。", "No face was found in the ID photo. Take a frontal photo of yourself again.",
        "The server's check of the uploaded ID photo found no face in it.", "Go back to the photo step and take or choose a photo that shows your whole face.";
    IdPhotoGeometry = "id_photo_geometry", 422,
        "证件照中人像的大小或位置不符合标准，请让应用重新裁剪照片。", "The face's size or position in the ID photo is not as the standard requires. Let the app crop the photo again.",
        "The server's check of the uploaded photo measured a face width, head top or eye line outside GA 461.", "Go back to the photo step and let the app check and crop the photo again.";
    IdPhotoExpression = "id_photo_expression", 422,
        "证件照须表情自然、不露齿，请闭上嘴、自然平视重新拍摄。", "An ID photo needs a neutral expression, without showing teeth. Close your mouth, look ahead and take it again.",
        "The mouth region of the photo shows teeth (a smile or an open mouth); GA 461 asks for a natural, neutral expression.", "Take the photo again with the mouth closed and a relaxed face.";
    IdPhotoOtherPerson = "id_photo_other_person", 422,
        "证件照与您登记的本人照片不符，请上传您本人的照片。", "The ID photo does not show you. Upload a photo of yourself.",
        "The face in the ID photo does not match the registry photo of the verified applicant (another person's photo).", "Take a new photo of yourself; if you think this is wrong, have the photo taken at a police service window.";
    IdPhotoRequired = "id_photo_required", 400,
        "邮寄领证须在线上传证件照。", "For delivery by post, upload an ID photo now.",
        "A photo taken at the station needs a visit; posting the card means no visit.", "Take or choose a photo, or choose pickup at a station.";
    FieldRequired = "field_required", 400,
        "请填写此项。", "This field is required.",
        "The service item needs this field (for example the day a lost card was lost).", "Fill in the marked field.";
    DateInvalid = "date_invalid", 400,
        "日期有误，请重新选择。", "The date is not valid. Please choose it again.",
        "Not a calendar date, or a day in the future where a past day is asked.", "Pick the date with the date picker.";
    AddressInvalid = "address_invalid", 400,
        "收件地址不完整，请选择省市区并填写详细地址。", "The address is incomplete. Choose the area and type the street address.",
        "The area code is unknown or the street address is missing or too long (120 characters).", "Choose province, city and district, then type street, building and room.";
    StationUnknown = "station_unknown", 400,
        "所选领证地点不可用，请重新选择。", "That pickup station is not available. Choose another.",
        "The station id is not in the current list of stations.", "Open the station list again and choose one.";
    DeliveryNotOffered = "delivery_not_offered", 400,
        "该业务不支持所选的领取方式。", "This service does not offer that way of receiving the card.",
        "For example, a temporary ID card is collected at the station only.", "Choose pickup at a station.";
    VerificationRequired = "verification_required", 403,
        "请先完成刷脸认证。", "Please complete face verification first.",
        "Applications are made in the verified resident's own name.", "Open 刷脸认证 on the home screen, then come back; your draft is kept.";
    ApplicationOpenExists = "application_open_exists", 409,
        "您已有一笔同类证件的申请正在办理，请勿重复申请。", "You already have an application for this card in progress.",
        "One open application per person and card kind (resident or temporary ID card).", "Open “My applications” to follow it, or withdraw it before applying again.";
    TemporaryCardNoPendingApplication = "temporary_card_no_pending_application", 409,
        "临时居民身份证仅在居民身份证申领、换领、补领期间办理，请先申请居民身份证。", "A temporary ID card is issued only while your resident ID card application is in progress. Apply for the resident ID card first.",
        "临时居民身份证管理办法 第二条: a temporary card is for a resident whose ID card is being applied for, renewed or replaced; this person has no such application open.", "Apply for your resident ID card (first card, renewal or replacement) first, then apply for the temporary card.";
    PhotoReviewRequired = "photo_review_required", 409,
        "该申请的证件照与登记照片相似度处于临界，请人工比对后再受理。", "This application's photo is a borderline match with the registry photo. Compare them before accepting.",
        "The application is marked photo_review and the accept request did not say photo_compared: true.", "Compare the uploaded photo with the registry photo (or the person at the window), then accept with photo_compared, or reject with a reason.";
    ApplicationStateConflict = "application_state_conflict", 409,
        "该申请当前状态不能进行此操作。", "This cannot be done in the application's current state.",
        "For example withdrawing after a clerk accepted, or marking a pickup card as posted.", "Reload the application to see its state.";
    StaffCredentialsInvalid = "staff_credentials_invalid", 401,
        "警号或密码不正确。", "Staff number or password is wrong.",
        "No staff account with that number and password.", "Check the staff number and password; repeated failures are rate limited.";
    CaseReceiptInvalid = "case_receipt_invalid", 400,
        "回执编号有误，请核对后重新输入。", "The receipt number is mistyped. Check it and enter it again.",
        "Receipt numbers are R followed by 12 digits, the last two check digits: a wrong digit or two swapped neighbours is caught before any lookup and does not count as a lookup attempt.", "Type the number exactly as printed on the 报案回执.";
    CaseQueryCodeInvalid = "case_query_code_invalid", 400,
        "查询码格式有误，请核对回执上的查询码。", "The query code is not valid. Check the code on your receipt.",
        "Query codes are 6 letters and digits (no 0, O, 1 or I).", "Type the 6 characters printed next to 查询码.";
    CaseLookupFailed = "case_lookup_failed", 404,
        "回执编号或查询码不正确。", "The receipt number or the query code is wrong.",
        "No case has this receipt number with this query code. Unknown receipts and wrong codes get the same answer on purpose.", "Check both against the receipt; after several failures, wait an hour or ask the station.";
    FaceAttemptsExhausted = "face_attempts_exhausted", 429,
        "今日刷脸认证次数已用完，请明天再试或前往公安服务窗口办理。", "No face verification attempts left today. Try tomorrow or visit a police service window.",
        "At most 5 face verification attempts per account per day (Asia/Shanghai).", "Wait until tomorrow (the time is shown), or verify in person at a police service window.";
    FaceChallengeExpired = "face_challenge_expired", 410,
        "认证已超时，请重新开始。", "The verification timed out. Please start again.",
        "The frames arrived more than 2 minutes after the challenge was issued.", "Start a new verification and take the photos right away.";
    FaceChallengeUsed = "face_challenge_used", 409,
        "本次认证已提交过，请重新开始。", "This verification was already submitted. Please start again.",
        "Each challenge can be answered once.", "Start a new verification.";
    FaceNonceInvalid = "face_nonce_invalid", 400,
        "认证信息不匹配，请重新开始。", "The verification data does not match. Please start again.",
        "The nonce sent with the frames is not the challenge's nonce.", "Start a new verification; update the app if it persists.";
    FaceFrameInvalid = "face_frame_invalid", 400,
        "照片无法识别，请重新拍摄（支持JPEG或PNG）。", "A photo could not be read. Please take it again (JPEG or PNG).",
        "A frame is missing, empty, not a JPEG/PNG image, or too large.", "Take the photos again with the app's camera or import JPEG/PNG photos.";
    FaceNone = "face_none", 422,
        "未检测到人脸，请正对镜头。", "No face was found. Please face the camera.",
        "The detector found no face in a frame.", "Face the camera with your whole face in the frame.";
    FaceSeveral = "face_several", 422,
        "检测到多张人脸，请确保画面中只有您本人。", "More than one face was found. Only you may be in the picture.",
        "A frame shows more than one face.", "Make sure nobody else (and no photo of a face) is in the picture.";
    FaceTooSmall = "face_too_small", 422,
        "人脸太小，请靠近镜头。", "Your face is too small. Please come closer to the camera.",
        "The face is narrower than 80 px or than 8% of the frame's shorter side.", "Hold the phone closer so your face fills the outline.";
    FaceTooDark = "face_too_dark", 422,
        "光线太暗，请到明亮处重试。", "It is too dark. Please move to a brighter place.",
        "The face region's mean brightness is too low.", "Face a window or a lamp and try again.";
    FaceTooBright = "face_too_bright", 422,
        "光线过强，请避免强光直射或逆光。", "Too much light. Avoid strong light on your face or behind you.",
        "The face region is washed out.", "Move out of direct sunlight or away from a bright window behind you.";
    FaceBlurred = "face_blurred", 422,
        "照片模糊，请保持手机稳定。", "The photo is blurred. Please hold the phone steady.",
        "The face region is not sharp enough.", "Hold still and keep the camera steady; clean the lens.";
    FaceWrongPose = "face_wrong_pose", 422,
        "未检测到要求的动作，请按提示依次完成。", "The requested movement was not seen. Please follow the prompts in order.",
        "A frame does not show the requested action (turn, look up or down, come closer) in the requested order.", "Start again and do each movement clearly when asked.";
    FaceReplay = "face_replay", 422,
        "照片疑似重复或翻拍，请使用实时拍摄的照片。", "The photos look copied. Please use photos taken live.",
        "Two frames are the same file or practically identical images.", "Take each photo live, doing the movement asked for.";
    FaceFramesAlike = "face_frames_alike", 422,
        "几张照片像是同一张照片，请按提示实时完成每个动作。", "The photos look like one picture used several times. Do each movement live when asked.",
        "Two frames of one challenge are the same picture cropped, scaled, mirrored or re-encoded, or too alike to be separate captures.", "Start again and take each photo live with the app's camera, doing the movement asked for.";
    FaceNotFrontal = "face_not_frontal", 422,
        "第一张照片须正对镜头，请重新开始。", "The first photo must face the camera. Please start again.",
        "The first frame of a challenge is not frontal (head turned or nodding).", "Look straight into the camera for the first photo, then do the movements asked for.";
    FaceMismatch = "face_mismatch", 422,
        "人脸与登记照片不一致，认证未通过。", "Your face does not match the registered photo.",
        "The face does not match the registry photo, or the frames show different people.", "Try again in good light; if it still fails, visit a police service window.";
    FaceRegistryPhotoMissing = "face_registry_photo_missing", 422,
        "户籍系统中暂无您的照片，无法刷脸认证，请前往公安服务窗口办理。", "The registry has no photo of you, so face verification is not possible. Please visit a police service window.",
        "The population registry holds no photo for this person.", "Verify in person at a police service window.";
    BillNumberInvalid = "bill_number_invalid", 400,
        "缴款单号有误，请核对后重新输入。", "The bill number is not valid. Please check it.",
        "Not 16 digits, or the last two check digits do not match (a digit was mistyped or swapped).", "Copy the 16-digit number exactly from the notice or bill.";
    BillCodeForeign = "bill_code_foreign", 400,
        "这不是警通缴款二维码，请扫描处罚决定书或缴款单上的二维码。", "This is not a Jingtong payment code. Scan the code on the penalty notice or bill.",
        "The scanned text does not start with the Jingtong bill prefix (for example a shop's or a web page's QR code).", "Scan the QR code printed on the penalty decision or fee bill, or enter the bill number.";
    BillCodeInvalid = "bill_code_invalid", 400,
        "二维码内容不完整或已损坏，请重新扫描。", "The QR code is incomplete or damaged. Please scan it again.",
        "The code has our prefix but is truncated or its fields cannot be read.", "Scan again in good light, or enter the bill number by hand.";
    BillCodeVersionUnsupported = "bill_code_version_unsupported", 400,
        "当前版本无法识别该缴款二维码，请升级应用。", "This app version cannot read this payment code. Please update the app.",
        "The code uses a newer payload version than this app knows.", "Update the app, then scan again.";
    BillCodeIssuerUnknown = "bill_code_issuer_unknown", 400,
        "无法确认该缴款二维码的开具单位，请勿缴款。", "The issuer of this payment code cannot be confirmed. Do not pay with it.",
        "The code names a signing key the app does not trust (a retired or unknown issuer key, or a forgery).", "Update the app; if it persists, pay by the bill number at a police service window.";
    BillCodeSignatureInvalid = "bill_code_signature_invalid", 400,
        "缴款二维码验证失败，可能被篡改，请勿缴款。", "This payment code failed verification and may have been altered. Do not pay with it.",
        "The issuer's signature does not match the content (a changed amount, number or date, or a forged code).", "Do not pay; check the notice with the issuing office or enter the bill number by hand.";
    BillCodeExpired = "bill_code_expired", 410,
        "该缴款二维码已过期，请凭缴款单号查询。", "This payment code has expired. Look the bill up by its number.",
        "The code is past its last valid day (Asia/Shanghai).", "Enter the bill number to see what is due now, or ask the issuing office for a new bill.";
    BillCancelled = "bill_cancelled", 409,
        "该缴款单已撤销，无需缴费。", "This bill was cancelled; nothing to pay.",
        "The bill belonged to something withdrawn before payment, such as a withdrawn application.", "Nothing to do. Apply again if you still need the service.";
    BillAlreadyPaid = "bill_already_paid", 409,
        "该缴款单已缴清，无需重复缴费。", "This bill has already been paid. There is nothing more to pay.",
        "A payment for this bill was already settled; a new payment order would charge twice.", "Open the bill to see its e-receipt; if you think this is wrong, contact the payee office.";
    QrNotFound = "qr_not_found", 0,
        "未识别到二维码，请将二维码置于画面中央并保持清晰。", "No QR code was found. Center the code in the picture and keep it sharp.",
        "The image holds no QR code the decoder could read (too small, blurred, cut off or too dark).", "Move closer, hold still in good light, or import a sharper photo.";
    QrImageInvalid = "qr_image_invalid", 0,
        "图片无法读取，请选择JPEG或PNG图片。", "The image could not be read. Choose a JPEG or PNG image.",
        "The file is not a JPEG/PNG image, is damaged, or is too large.", "Import a JPEG or PNG photo of the code.";
    ExportFailed = "export_failed", 0,
        "文件保存失败，请检查存储空间后重试。", "The file could not be saved. Check the free space and try again.",
        "The app could not write the file to the downloads folder.", "Free some space or check the folder's permissions, then export again.";
    Offline = "offline", 0,
        "网络不可用，请检查网络后重试。", "You are offline. Check your network and try again.",
        "The app cannot reach the server.", "Check Wi-Fi or mobile data; what you typed is kept.";
    KeychainUnavailable = "keychain_unavailable", 0,
        "无法访问系统钥匙串，无法安全保存登录状态。", "The system keychain is not available, so sign-in cannot be kept safely.",
        "No OS credential store (Secret Service, kernel keyring, Keychain) is reachable.", "Unlock or start your system keyring, then sign in again.";
    DraftCorrupt = "draft_corrupt", 0,
        "本地草稿已损坏，无法恢复。", "A saved draft is damaged and cannot be restored.",
        "The encrypted draft failed its integrity check (for example the key was reset).", "Start the form again; the damaged draft is removed.";
    LocalStorage = "local_storage", 0,
        "本地数据读写失败，请重启应用。", "The app could not read or write its local data. Restart the app.",
        "The local database could not be opened or written.", "Restart the app; if it persists, free disk space.";
    UnexpectedResponse = "unexpected_response", 0,
        "服务器返回了无法识别的内容，请升级应用。", "The server sent an answer the app does not understand. Please update the app.",
        "App and server versions do not match.", "Update the app.";
    TextCharNotAllowed = "text_char_not_allowed", 400,
        "文字中有不允许的字符（控制符、文字方向符或不可见字符），请删除后重试。", "The text holds a character that is not allowed (a control, text-direction or invisible character). Remove it and try again.",
        "A field holds a C0/C1 control character (NUL included), a bidi override, isolate or mark, a zero-width or other format (Cf) character, a noncharacter or a private-use character; the problem's field message names the character and its position.", "Delete the character named (often pasted along with the text) and send again.";
    TextTooLong = "text_too_long", 400,
        "文字太长，请删减后重试。", "The text is too long. Please shorten it.",
        "The field holds more characters than its limit.", "Shorten the text.";
    TextContainsLink = "text_contains_link", 400,
        "为保护双方隐私，留言中不能包含网址或链接。", "To protect both sides' privacy, messages cannot contain web addresses or links.",
        "Text relayed to the other party holds a URL or a domain name in some spelling (abc.com, abc。cn, www 点 abc 点 com).", "Write the message without the web address; the app relays it.";
    TextContainsContact = "text_contains_contact", 400,
        "为保护双方隐私，留言中不能包含微信、QQ 等联系方式。", "To protect both sides' privacy, messages cannot contain WeChat, QQ or other contact handles.",
        "Text relayed to the other party names a contact channel (微信/WeChat/vx/QQ …) or holds an @handle or e-mail address.", "Write the message without contact details; talk through the app's relay.";
    CaseStateConflict = "case_state_conflict", 409,
        "案件状态已被他人更新，请刷新后重试。", "The case was just updated by someone else. Reload it and try again.",
        "The case's status changed between reading it and posting the event (another officer acted first).", "Reload the case, check its new status, then post again if still needed.";
    PaymentOrderPending = "payment_order_pending", 409,
        "支付订单正在创建，请稍后重试。", "The payment order is still being created. Please try again in a moment.",
        "Another request for the same bill is still opening its order with the payment provider.", "Wait a few seconds and tap pay again; you will get the same order.";
    PhotoUnreadable = "photo_unreadable", 400,
        "照片无法打开，可能已损坏或不是照片文件，请重新拍摄或选择。", "The photo cannot be opened: it is damaged or not a picture. Take or choose it again.",
        "The server decodes every uploaded picture in full; this one is not a JPEG or is truncated or damaged.", "Take the photo again in the app, or choose another picture.";
    PhotoTooLarge = "photo_too_large", 400,
        "照片太大，请重新拍摄或选择较小的照片。", "The photo is too large. Take it again or choose a smaller one.",
        "The picture has more bytes or pixels than this kind of upload allows (checked from its header before decoding).", "Take the photo again in the app, which compresses it, or choose a smaller picture.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for ErrorCode {}

impl std::str::FromStr for ErrorCode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s).ok_or(())
    }
}

/// Renders the catalogue as Markdown for `docs/error-codes.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\nGenerated from `crates/api/src/codes.rs` (run `cargo test -p jingtong-api` to refresh). \
         Status 0 means the code is produced by the app itself and never crosses HTTP.\n\n\
         | code | status | what the resident reads (zh-CN) | English | cause | what to do |\n|---|---|---|---|---|---|\n",
    );
    for c in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.as_str(),
            c.status(),
            c.message(Lang::ZhCn),
            c.message(Lang::En),
            c.cause(),
            c.action()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_equals_catalogue_name() {
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
            assert_eq!(c.as_str().parse::<ErrorCode>(), Ok(*c));
        }
    }

    #[test]
    fn docs_catalogue_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/error-codes.md");
        let want = catalogue_markdown();
        let have = std::fs::read_to_string(path).unwrap_or_default();
        if have != want {
            if std::env::var_os("CI").is_some() {
                panic!("docs/error-codes.md is stale: run `cargo test -p jingtong-api` locally and commit it");
            }
            std::fs::write(path, &want).unwrap();
        }
    }
}
